"""The README works as written (issue #12: two of its recipes failed on a fresh clone).

Every ``artifex`` command of its bash blocks runs, in order, in a scratch folder holding a copy of
``examples/``; training commands get ``--epochs 1 --limit 64`` (and a tiny model unless their config file
says otherwise) appended so that the flow, not the training, is what is checked: the run folder the
``--resume``, ``sample`` and ``evaluate`` lines use is one an earlier line made. Then every Python block runs
there, ``load_run("runs/my-run")`` included.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artifex_core.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FAST = ["--epochs", "1", "--limit", "64", "--batch-size", "32", "--quiet"]
TINY = ["--set", "hidden_dims=[16]", "--set", "latent_dim=2"]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def _commands() -> list[list[str]]:
    """The ``artifex`` command lines of the README's bash blocks, as argument lists (comments dropped)."""
    return [
        args[1:]
        for block in _blocks("bash")
        for line in block.splitlines()
        if (args := shlex.split(line, comments=True)) and args[0] == "artifex"
    ]


def _fast(args: list[str]) -> list[str]:
    if args[0] != "train" or "--resume" in args:
        return args
    return [*args, *FAST, *([] if "--config" in args else TINY)]


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch folder where every README command has run, in order."""
    here = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", here / "examples")
    mp = pytest.MonkeyPatch()
    mp.chdir(here)
    mp.setenv("ARTIFEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "artifex-cache"))
    try:
        runner = CliRunner()
        for args in _commands():
            result = runner.invoke(app, _fast(args))
            assert result.exit_code == 0, f"`artifex {shlex.join(args)}` failed:\n{result.output}"
    finally:
        mp.undo()
    return here


def test_the_readme_commands_cover_the_run_flow_and_the_examples() -> None:
    commands = [shlex.join(args) for args in _commands()]
    assert "train --out runs/my-run --epochs 20" in commands
    assert commands.index("train --out runs/my-run --epochs 20") < commands.index("train --resume --out runs/my-run")
    assert {"build --config examples/model.yaml --json", "validate examples/model.yaml"} <= set(commands)
    assert "train --config examples/train.yaml --out runs/cnn-beta" in commands
    used = {Path(a) for args in _commands() for a in args if a.startswith("examples/")}
    assert used == {p.relative_to(ROOT) for p in (ROOT / "examples").iterdir()}, "examples/ ships what is used"


def test_every_readme_command_runs_as_written(flow: Path) -> None:
    for run in ("my-run", "beta", "cnn-beta"):
        assert (flow / "runs" / run / "config.json").is_file(), run
    assert (flow / "samples.png").is_file() and (flow / "model.schema.json").is_file()
    assert "cnn" in (flow / "runs" / "cnn-beta" / "config.json").read_text()  # the example's model, as written
    assert (flow / "runs" / "my-run" / "report.html").is_file() and (flow / "compare.html").is_file()
    assert (flow / "runs" / "my-run" / "evaluation.json").is_file() and (flow / "runs" / "my-run" / "curves.png").is_file()
    assert any((flow / "runs" / "tb" / "tensorboard").iterdir())  # the tensorboard logger's event file


def test_the_config_shown_is_the_shipped_example() -> None:
    [shown] = _blocks("yaml")
    assert shown == (ROOT / "examples" / "model.yaml").read_text()


def test_every_python_block_runs(flow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(flow)
    blocks = _blocks("python")
    ran: dict[str, dict[str, Any]] = {}
    for block in blocks:
        namespace: dict[str, Any] = {"__name__": "readme"}
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
        ran[block] = namespace
    ns = next(ns for block, ns in ran.items() if "load_run(" in block and "load_mnist()" in block)
    ds, run = ns["ds"], ns["run"]  # what the block's comments promise
    assert ds.x_test.shape == (10000, 28, 28, 1) and ds.y_test[:3].tolist() == [7, 2, 1]
    assert float(ds.x_test.max()) == 1.0 and ns["own"].x_test.shape[0] == 100
    assert run.model_config.model == "vae" and run.epoch == 1  # the README's 20 epochs, cut to 1 here
    assert ns["mean"].shape == (8, 2) and ns["recons"].shape == (8, 28, 28, 1) and ns["samples"].shape[0] == 16
    assert ns["shapes"].x.dtype == "float32" and ns["shapes"].classes.shape == (16, 5)
