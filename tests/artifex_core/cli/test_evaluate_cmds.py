"""`artifex evaluate` on a real tiny run: named ELBO figures, evaluation.json, progress on stderr, pure-JSON stdout."""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from artifex_core.cli import app
from artifex_core.cli._evaluate_cmds import EvaluateProgress

runner = CliRunner()


@pytest.fixture
def run(tiny_runs, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(tiny_runs.b, copy)
    return copy


def test_evaluate_json_names_the_elbo_and_keeps_the_result(run: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(run), "--json", "--k", "10", "--limit", "64", "--seed", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # stdout is nothing but the JSON
    elbo, loss = report["metrics"]["elbo"], report["metrics"]["test_loss"]
    assert elbo["neg_elbo"] == -elbo["elbo"] and elbo["elbo"] < 0  # nats of a normalised (bce) likelihood
    assert elbo["bits_per_dim"] == pytest.approx(elbo["neg_elbo"] / (28 * 28 * math.log(2.0)))
    assert elbo["neg_elbo"] == pytest.approx(loss["loss"], rel=0.02)  # a beta = 1 VAE: the loss is the -ELBO
    assert elbo["kl"] == pytest.approx(loss["kl_loss"], rel=1e-4)
    assert report["metrics"]["iwae"]["iwae_nll"] <= elbo["neg_elbo"] + 1.0  # the tighter bound
    saved = json.loads((run / "evaluation.json").read_text())
    assert saved == report and saved["checkpoint_epoch"] == 2 and saved["test_examples"] == 64
    assert saved["arguments"] == {"metrics": None, "options": {}, "k": 10, "limit": 64, "seed": 1,
                                  "checkpoint": "latest"}
    lines = result.stderr.splitlines()  # progress: plain lines, not a terminal
    assert lines[0] == f"evaluate: loading {run} (checkpoint latest) ..."
    assert "evaluate: [2/4] elbo ..." in lines and any(line.startswith("evaluate: [2/4] elbo done in ") for line in lines)
    assert lines[-1] == f"evaluate: wrote {run / 'evaluation.json'}"


def test_no_save_and_quiet(run: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(run), "--json", "-m", "elbo", "--limit", "16", "--no-save", "-q",
                                 "--option", "elbo.samples=3", "--checkpoint", "1"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and not (run / "evaluation.json").exists()
    report = json.loads(result.stdout)
    assert list(report["metrics"]) == ["elbo"] and report["metrics"]["elbo"]["samples"] == 3
    assert report["checkpoint_epoch"] == 1 and report["arguments"]["options"] == {"elbo": {"samples": 3}}


def test_the_table_shows_the_elbo(run: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(run), "-m", "elbo", "-m", "test_loss", "--limit", "16"])
    assert result.exit_code == 0, result.output
    assert "neg_elbo" in result.stdout and "bits_per_dim" in result.stdout and "test_loss" in result.stdout
    assert "evaluate:" not in result.stdout  # progress never reaches stdout


def test_progress_draws_a_live_bar_on_a_terminal() -> None:
    buffer = io.StringIO()
    progress = EvaluateProgress(Console(file=buffer, force_terminal=True, width=100), live=None)
    assert progress.live
    progress.start("iwae", 1, 2)
    progress.finish("iwae", 1.5, True)
    progress.start("elbo", 2, 2)
    progress.finish("elbo", 0.5, False)
    progress.close()
    text = buffer.getvalue()
    assert "evaluating elbo" in text and "iwae done in 1.5 s" in text and "elbo failed in 0.5 s" in text
    quiet = io.StringIO()
    silent = EvaluateProgress(Console(file=quiet, force_terminal=True), show=False)
    silent.stage("loading")
    silent.start("x", 1, 1)
    silent.finish("x", 0.1, True)
    silent.close()
    assert quiet.getvalue() == ""
