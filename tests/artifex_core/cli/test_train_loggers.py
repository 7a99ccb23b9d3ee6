"""``artifex train --logger``: a plugin's logger receives every epoch, config.json records it, --resume keeps
it and may add more; options come from train.loggers; an unknown name is a usage error with close matches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from artifex_core.cli import app

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "plugins" / "artifex-goodplugin"  # its source first: the installed copy may be older
TINY = ["--quiet", "--batch-size", "32", "--set", "hidden_dims=[8]", "--set", "latent_dim=2"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = os.pathsep.join([str(GOOD), str(ROOT), os.environ.get("PYTHONPATH", "")])
    cache = str(tmp_path_factory.getbasetemp() / "artifex-cache")
    return {**os.environ, "PYTHONPATH": path, "ARTIFEX_CACHE_DIR": cache, "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "dots.npz"
    np.savez(path, x=(rng.random((160, 6, 6)) < 0.3).astype(np.uint8) * 255)
    return path


def artifex(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "artifex_core.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def epochs_logged(run: Path, name: str = "good_log.txt") -> list[int]:
    return [int(line.split()[1]) for line in (run / name).read_text().splitlines()]


def test_a_plugin_logger_receives_every_epoch_and_resume_keeps_it(npz: Path, env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = artifex(["train", "--dataset", str(npz), "--epochs", "2", "--out", str(out), *TINY, "--logger", "good_log"], env)
    assert proc.returncode == 0, proc.stderr
    assert epochs_logged(out) == [1, 2]
    assert json.loads((out / "config.json").read_text())["train"]["loggers"] == {"good:good_log": {}}
    assert [r["epoch"] for r in (json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines())] == [1, 2]

    # --resume keeps the recorded loggers and adds the ones given
    proc = artifex(["train", "--resume", "--out", str(out), "--epochs", "3", "--quiet", "--logger", "jsonl"], env)
    assert proc.returncode == 0, proc.stderr
    assert epochs_logged(out) == [1, 2, 3]
    recorded = json.loads((out / "config.json").read_text())["train"]["loggers"]
    assert recorded == {"good:good_log": {}, "builtin:jsonl": {}}


def test_logger_options_come_from_train_loggers_and_names_merge(npz: Path, env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    options = 'train.loggers={"good_log": {"precision": 1, "filename": "losses.txt"}}'
    args = ["train", "--dataset", str(npz), "--epochs", "1", "--out", str(out), *TINY, "--set", options,
            "--logger", "good:good_log,jsonl"]
    proc = artifex(args, env)
    assert proc.returncode == 0, proc.stderr
    line = (out / "losses.txt").read_text().splitlines()[0]
    assert line.startswith("epoch 1 step 4 train_loss ") and len(line.split()[5].split(".")[1]) == 1
    loggers = json.loads((out / "config.json").read_text())["train"]["loggers"]
    assert loggers == {"good:good_log": {"precision": 1, "filename": "losses.txt"}, "builtin:jsonl": {}}


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("jsnol", "unknown logger 'jsnol'; did you mean 'jsonl'?"),
        ("jsonl,nope", "unknown logger 'nope' (available: "),
        ("other:jsonl", "unknown logger 'other:jsonl'; did you mean 'jsonl'"),
    ],
)
def test_an_unknown_logger_is_a_usage_error_before_anything_runs(tmp_path: Path, flag: str, message: str) -> None:
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "r"), "--limit", "10", "--logger", flag])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert message in lines[-1] and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_train_logger_tensorboard_writes_what_metrics_jsonl_holds_and_resume_repeats_no_step(
    npz: Path, env: dict[str, str], tmp_path: Path
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from artifex_core.charts import save_curves
    from artifex_core.training import RunDir
    from artifex_core.training.tracking import record_scalars

    out = tmp_path / "run"
    args = ["train", "--dataset", str(npz), "--epochs", "2", "--out", str(out), *TINY, "--logger", "tensorboard"]
    proc = artifex(args, env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "config.json").read_text())["train"]["loggers"] == {"builtin:tensorboard": {}}
    proc = artifex(["train", "--resume", "--out", str(out), "--epochs", "3", "--quiet"], env)
    assert proc.returncode == 0, proc.stderr

    rows = RunDir(out).read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    expected = {tag for r in rows for tag in record_scalars(r)}
    assert {"train/loss", "train/grad_norm", "test/loss", "test/kl_loss", "lr", "perf/examples_per_s"} <= expected
    assert expected <= set(events.Tags()["scalars"])
    for tag in expected:
        logged = events.Scalars(tag)
        assert [e.step for e in logged] == [r["step"] for r in rows], tag  # each epoch once, at its step
        assert [e.value for e in logged] == pytest.approx([record_scalars(r)[tag] for r in rows], rel=1e-6), tag
    assert [e.step for e in events.Scalars("train_log/loss")] == [r["step"] for r in rows]  # log_every > epoch
    for name in ("samples", "reconstructions", "traversals"):
        assert [e.step for e in events.Images(f"images/{name}")] == [r["step"] for r in rows]

    # curves.png is drawn from metrics.jsonl: after the resume it shows all three epochs
    assert (out / "curves.png").read_bytes() == save_curves(rows, tmp_path / "expected.png").read_bytes()
