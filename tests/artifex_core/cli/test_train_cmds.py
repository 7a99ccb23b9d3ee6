"""`artifex train`, `sample` and `evaluate` through the CLI on a tiny .npz: outputs, resume, exit codes, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from artifex_core.cli import app
from artifex_core.evaluation import Metric
from artifex_core import metrics
from artifex_core.testing import isolated_registries
from artifex_core.training._overrides import apply_sets, split_config
from artifex_plugins.data import DEFAULT_ROOT

runner = CliRunner()
TINY = ["--set", "hidden_dims=[16]", "--set", "latent_dim=2", "--set", "warmup_steps=2", "--batch-size", "32"]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "artifex-cache"))


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 160)
    x = (rng.random((160, 6, 6)) < 0.1).astype(np.uint8) * 255
    x[np.arange(160), 2 * y] = 255  # class k lights row 2k
    path = tmp_path_factory.mktemp("data") / "bars.npz"
    np.savez(path, x=x, y=y)
    return path


@pytest.fixture(scope="module")
def trained(npz: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("runs") / "vae"
    mp = pytest.MonkeyPatch()
    mp.setenv("ARTIFEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "artifex-cache"))
    try:
        result = runner.invoke(app, ["train", "--dataset", str(npz), "--epochs", "2", "--out", str(out), "--json", *TINY])
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_train_json_summary_and_run_folder(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    assert summary["run_dir"] == str(out) and summary["model"] == "vae" and summary["dataset"] == "bars"
    assert summary["epochs"] == 2 and summary["final"]["epoch"] == 2 and summary["resumed_from_epoch"] == 0
    assert summary["best_epoch"] in (1, 2) and np.isfinite(summary["final"]["test"]["loss"])
    assert summary["pictures"] == ["samples.png", "reconstructions.png", "traversals.png", "curves.png"]
    for name in ("config.json", "metrics.jsonl", "checkpoints", *summary["pictures"]):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["hidden_dims"] == [16] and config["model"]["input_dim"] == [6, 6, 1]
    assert config["model"]["parameters"]["reconstruction_loss_type"] == "bce"  # the default recipe
    assert config["train"]["dataset"].endswith("bars.npz") and config["train"]["warmup_steps"] == 2


def test_existing_run_needs_resume(npz: Path, trained: tuple[Path, dict]) -> None:
    again = runner.invoke(app, ["train", "--dataset", str(npz), "--out", str(trained[0]), *TINY])
    assert again.exit_code == 2
    assert "already holds a trained run; pass --resume to continue it" in again.stderr


def test_resume_after_a_kill_ends_at_the_same_result(trained: tuple[Path, dict], tmp_path: Path) -> None:
    out, summary = trained
    killed = tmp_path / "killed"  # the run as a kill during epoch 2 leaves it: epoch 1 checkpointed only
    shutil.copytree(out, killed)
    shutil.rmtree(killed / "checkpoints" / "2")
    lines = (killed / "metrics.jsonl").read_text().splitlines()
    (killed / "metrics.jsonl").write_text(lines[0] + "\n")
    resumed = runner.invoke(app, ["train", "--resume", "--out", str(killed), "--json"])
    assert resumed.exit_code == 0, resumed.output
    after = json.loads(resumed.stdout)
    assert after["resumed_from_epoch"] == 1 and after["final"]["epoch"] == 2
    assert after["final"]["test"] == summary["final"]["test"]  # bit for bit
    assert after["final"]["train"] == summary["final"]["train"]
    def strip(path: Path) -> list[dict]:
        return [{k: v for k, v in json.loads(x).items() if not k.endswith("_s")} for x in path.read_text().splitlines()]

    assert strip(killed / "metrics.jsonl") == strip(out / "metrics.jsonl")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resume"], "--resume needs --out RUN_DIR"),
        (["--resume", "--out", "nowhere", "--model", "vae"], "--resume continues the run's own config; drop --model"),
        (["--resume", "--out", "nowhere"], "cannot resume: run folder 'nowhere' does not exist"),
        (["--model", "vea"], "unknown model 'vea'; did you mean 'vae'"),
        (["--dataset", "missing.npz"], "dataset file 'missing.npz' does not exist"),
        (["--set", "latent_dim=-1"], "latent_dim: Input should be greater than 0"),
        (["--set", "optimizer=adamm"], "train.optimizer: Input should be 'adam'"),
        (["--set", "train.schedule=warmup_cosine", "--set", "warmup_steps=0"], "train.warmup_steps: must be positive"),
        (["--set", "nonsense"], "--set 'nonsense' must look like key=value"),
        (["--batch-size", "999"], "batch_size 999 is larger than the 144 training examples"),
        (["--set", "input_dim=[36]"], r"input_dim [36] does not match dataset 'bars' examples of shape [6, 6, 1]"),
        (["--config", "missing.yaml"], "config file 'missing.yaml' does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_line(npz: Path, tmp_path: Path, args: list[str], message: str) -> None:
    base = ["train"]
    if "--resume" not in args:
        base += ["--out", str(tmp_path / "run")] + (["--dataset", str(npz)] if "--dataset" not in args else [])
    result = runner.invoke(app, [*base, *args])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.output


def test_missing_fashion_mnist_exits_1_saying_how_to_install(tmp_path: Path) -> None:
    if DEFAULT_ROOT.is_dir():
        pytest.skip("Fashion-MNIST is installed here")
    result = runner.invoke(app, ["train", "--dataset", "fashion_mnist", "--out", str(tmp_path / "r"), "--quiet"])
    assert result.exit_code == 1
    assert "apt-get install dataset-fashion-mnist" in result.stderr and "Traceback" not in result.output


def test_a_diverging_run_exits_1_naming_the_step(npz: Path, tmp_path: Path) -> None:
    args = ["train", "--dataset", str(npz), "--epochs", "2", "--out", str(tmp_path / "r"), "--quiet", *TINY,
            "--set", "optimizer=sgd", "--lr", "1e30", "--set", "schedule=constant"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "loss became" in result.stderr and "at step" in result.stderr and result.stdout == ""


def test_config_file_with_a_train_section_and_human_output(npz: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"model: vae\nhidden_dims: [16]\nlatent_dim: 2\nparameters:\n  reconstruction_loss_type: bce\n"
        f"train:\n  dataset: {npz}\n  epochs: 2\n  batch_size: 32\n  warmup_steps: 2\n"
    )
    result = runner.invoke(app, ["train", "--config", str(cfg), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "training summary" in result.stdout and "run folder:" in result.stdout
    assert "epoch 2/2: train loss" in result.stderr


def test_run_folder_named_first_and_summary_without_a_terminal_shows_every_epoch(npz: Path, tmp_path: Path) -> None:
    """Issue #12: the folder was named only when training ended; piped, the table hid epochs 3-10 and cut headers."""
    out = tmp_path / "long"
    result = runner.invoke(app, ["train", "--dataset", str(npz), "--epochs", "13", "--out", str(out), *TINY])
    assert result.exit_code == 0, result.output
    errors = result.stderr.splitlines()
    assert errors[0] == f"run folder: {out}" and errors[1].startswith("epoch 1/13: train loss")
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("epoch"))
    assert header.split() == ["epoch", "train", "loss", "test", "loss", "test", "kl_loss", "test",
                              "reconstruction_loss", "time", "s", "ex/s"]
    rows = [line.split() for line in lines if line.split() and line.split()[0].isdigit()]
    assert [int(r[0]) for r in rows] == list(range(1, 14))  # every epoch, none elided
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [float(r[2]) for r in rows] == [round(r["test"]["loss"], 3) for r in records]
    assert not any("…" in line for line in lines) and "not shown" not in result.stdout
    resumed = runner.invoke(app, ["train", "--resume", "--out", str(out)])  # its folder is the one given
    assert resumed.exit_code == 0 and "run folder" not in resumed.stderr


@pytest.mark.parametrize("terminal", [True, False])
def test_summary_table_elides_only_on_a_terminal_and_says_so(terminal: bool, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from artifex_core.cli import _train_summary as train_summary

    records = [{"epoch": e, "train": {"loss": 100.0 - e}, "test": {"loss": 90.0 - e, "kl_loss": 1.0},
                "epoch_time_s": 1.0, "examples_per_s": 1000.0} for e in range(1, 21)]
    run = SimpleNamespace(run_dir=SimpleNamespace(read_metrics=lambda: records))
    summary = {"run_dir": "runs/x", "best_epoch": 20, "best_test": records[-1]["test"], "pictures": [], "elapsed_s": 1.0}
    monkeypatch.setattr(train_summary.out_console, "_force_terminal", terminal)
    train_summary.print_summary(run, summary)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    epochs = [int(line.split()[0]) for line in out.splitlines() if line.split() and line.split()[0].isdigit()]
    if terminal:
        assert epochs == [1, 2, *range(11, 21)] and "epochs 3-10 not shown: see metrics.jsonl" in out
    else:
        assert epochs == list(range(1, 21)) and "not shown" not in out


def test_conditional_sample_grid_has_one_full_row_per_class(npz: Path, tmp_path: Path) -> None:
    """Issue #12: the default conditional grid was 64 images for 10 classes (a short last class)."""
    out = tmp_path / "cvae"
    result = runner.invoke(app, ["train", "--model", "conditional_vae", "--dataset", str(npz), "--epochs", "1",
                                 "--out", str(out), "--quiet", *TINY])
    assert result.exit_code == 0, result.output
    default = runner.invoke(app, ["sample", str(out), "--json"])
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["n"] == 30  # 3 classes x 10
    assert Image.open(out / "sample.png").size == (10 * 8 + 2, 3 * 8 + 2)  # 6 px images, 2 px padding
    nine = runner.invoke(app, ["sample", str(out), "-n", "9", "-o", str(tmp_path / "nine.png")])
    assert nine.exit_code == 0 and Image.open(tmp_path / "nine.png").size == (3 * 8 + 2, 3 * 8 + 2)
    rows = runner.invoke(app, ["sample", str(out), "--nrow", "4", "-o", str(tmp_path / "rows.png")])
    assert rows.exit_code == 0 and Image.open(tmp_path / "rows.png").size == (4 * 8 + 2, 3 * 8 + 2)
    one = runner.invoke(app, ["sample", str(out), "--label", "1", "-n", "5", "-o", str(tmp_path / "one.png")])
    assert one.exit_code == 0 and Image.open(tmp_path / "one.png").size == (5 * 8 + 2, 8 + 2)
    for args, message in ((["-n", "7"], "7 samples do not fill one row per class: with 3 classes give a multiple "
                           "of 3 (e.g. 6 or 9); or draw one class with --label"),
                          (["-n", "9", "--nrow", "4"], "9 samples in rows of 4 do not give one row per class")):
        bad = runner.invoke(app, ["sample", str(out), *args])
        assert bad.exit_code == 2 and message in bad.stderr, bad.stderr


def test_sample_writes_a_png_grid(trained: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = trained
    target = tmp_path / "grid.png"
    result = runner.invoke(app, ["sample", str(out), "-n", "10", "--nrow", "5", "-t", "0.5", "-o", str(target), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["path"] == str(target) and info["checkpoint_epoch"] == 2
    assert Image.open(target).size == (5 * 8 + 2, 2 * 8 + 2)  # 2 rows of 5 images of 6 px, 2 px padding
    plain = runner.invoke(app, ["sample", str(out), "-n", "4"])
    assert plain.exit_code == 0 and (out / "sample.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.jpg"], "--output must be a .png file"),
        (["-t", "0"], "--temperature must be > 0"),
        (["--label", "1"], "--label needs a conditional model; 'vae' is not conditional"),
        (["--checkpoint", "7"], "no checkpoint '7'"),
    ],
)
def test_sample_usage_errors(trained: tuple[Path, dict], args: list[str], message: str) -> None:
    result = runner.invoke(app, ["sample", str(trained[0]), *args])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_sample_and_evaluate_need_a_run_folder(tmp_path: Path) -> None:
    for command in ("sample", "evaluate"):
        result = runner.invoke(app, [command, str(tmp_path)])
        assert result.exit_code == 2 and "is not a run folder: it has no config.json" in result.stderr


def test_evaluate_json(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    result = runner.invoke(app, ["evaluate", str(out), "--json", "--k", "20"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    metrics = report["metrics"]
    assert metrics["test_loss"]["loss"] == pytest.approx(summary["final"]["test"]["loss"], rel=1e-5)
    assert metrics["iwae"]["k"] == 20 and np.isfinite(metrics["iwae"]["iwae_nll"]) and report["test_examples"] == 16
    assert metrics["active_units"]["active_units"] <= metrics["active_units"]["latent_dim"] == 2
    assert report["failed"] == [] and set(report["time_s"]) == set(metrics)
    table = runner.invoke(app, ["evaluate", str(out), "--k", "0", "--limit", "8"])
    assert table.exit_code == 0 and "test_loss" in table.stdout and "iwae" not in table.stdout
    assert "active_units" in table.stdout and "(epoch 2, 8 test examples)" in table.stdout


class _Boom(Metric):
    """Raises, to show that a failing metric is reported while the others run."""

    def compute(self, run, data, *, seed):
        raise RuntimeError("boom\non two lines")


class _Pixels(Metric):
    """A plugin-style metric with an option."""

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale

    def compute(self, run, data, *, seed):
        return {"mean": self.scale * float(data.x_test.mean()), "n": len(data.x_test)}


def test_evaluate_selected_metrics_and_options(trained: tuple[Path, dict]) -> None:
    out, _ = trained
    with isolated_registries():
        metrics.register("pixels", _Pixels, summary="Mean pixel")
        result = runner.invoke(app, ["evaluate", str(out), "--json", "--metric", "pixels", "-m", "test_loss",
                                     "--option", "pixels.scale=2", "--limit", "4"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert list(report["metrics"]) == ["pixels", "test_loss"] and report["test_examples"] == 4
        assert report["metrics"]["pixels"]["n"] == 4 and report["metrics"]["pixels"]["mean"] > 0
        one = json.loads(runner.invoke(app, ["evaluate", str(out), "--json", "-m", "pixels", "--limit", "4"]).stdout)
        assert one["metrics"]["pixels"]["mean"] == pytest.approx(report["metrics"]["pixels"]["mean"] / 2)
        bad = runner.invoke(app, ["evaluate", str(out), "-m", "pixels", "--option", "pixels.scael=2"])
        assert bad.exit_code == 2 and "metric 'pixels' has no option 'scael' (its options: scale)" in bad.stderr
        assert "Traceback" not in bad.output
    unknown = runner.invoke(app, ["evaluate", str(out), "--metric", "tset_loss"])
    assert unknown.exit_code == 2 and "unknown metric 'tset_loss'" in unknown.stderr and "test_loss" in unknown.stderr
    shape = runner.invoke(app, ["evaluate", str(out), "--option", "k=5"])
    assert shape.exit_code == 2 and "--option must be METRIC.OPTION=VALUE" in shape.stderr


def test_a_failing_metric_is_reported_and_the_others_run(trained: tuple[Path, dict]) -> None:
    out, _ = trained
    with isolated_registries():
        metrics.register("boom", _Boom, summary="Always fails")
        result = runner.invoke(app, ["evaluate", str(out), "--json", "--k", "5"])
        assert result.exit_code == 1  # the report is complete, and the failure is not hidden
        report = json.loads(result.stdout)
        assert report["metrics"]["boom"] == {"error": "RuntimeError: boom on two lines"}
        assert report["failed"] == ["boom"] and {"test_loss", "iwae", "active_units"} <= set(report["metrics"])
        warnings = [line for line in result.stderr.splitlines() if "boom" in line and "warning" in line]
        assert warnings == ["warning: metric 'boom' failed: RuntimeError: boom on two lines"]
        table = runner.invoke(app, ["evaluate", str(out), "--k", "0"])
        assert table.exit_code == 1 and "RuntimeError: boom on two lines" in table.stdout
        assert "test_loss" in table.stdout and "Traceback" not in table.output


def test_split_config_routes_train_fields() -> None:
    assert split_config({"model": {"model": "vae"}, "train": {"epochs": 2}, "dataset": {"x": 1}}) == (
        {"model": "vae"},
        {"epochs": 2},
    )
    assert split_config({"model": "vae", "lr": 0.1, "latent_dim": 3}) == ({"model": "vae", "latent_dim": 3}, {"lr": 0.1})
    model, train = apply_sets({}, {}, ["model=beta_vae", "model.latent_dim=3", "train.seed=2", "epochs=4"])
    assert model == {"model": "beta_vae", "latent_dim": 3} and train == {"seed": 2, "epochs": 4}


@pytest.mark.parametrize("module", ["_train_cmds", "_train_summary", "_jax_setup"])
def test_train_module_imports_no_jax(module: str) -> None:
    code = f"import sys, artifex_core.cli.{module}; print('jax' in sys.modules, 'flax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_help_lists_every_flag_with_its_default() -> None:
    result = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for flag in ("--config", "--model", "--dataset", "--epochs", "--batch-size", "--lr", "--seed", "--out",
                 "--resume", "--set", "--json", "--quiet", "--no-compile-cache"):
        assert flag in result.stdout, flag
    assert "[default: the recipe's]" in result.stdout and "[default: vae]" in result.stdout
