"""``artifex train --logger mlflow`` end to end, in a real process: the run folder's own sqlite store holds one
MLflow run with the params, the metrics of metrics.jsonl at their steps and the artifacts; ``--resume``
continues it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from artifex_core.training import RunDir
from artifex_core.training.tracking import record_scalars
from artifex_mlflow.logger import RUN_FILE, local_tracking_uri

TINY = ["--quiet", "--batch-size", "32", "--set", "hidden_dims=[8]", "--set", "latent_dim=2"]


def artifex(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFEX_CACHE_DIR": str(tmp / "cache"), "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}
    return subprocess.run([sys.executable, "-m", "artifex_core.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "dots.npz"
    np.savez(path, x=(rng.random((160, 6, 6)) < 0.3).astype(np.uint8) * 255)
    return path


def test_train_logger_mlflow_creates_a_run_readable_through_mlflowclient(npz: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = artifex(["train", "--dataset", str(npz), "--epochs", "2", "--out", str(out), *TINY, "--logger", "mlflow"],
                   tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "alembic" not in proc.stderr and "Creating initial MLflow database tables" not in proc.stderr
    assert json.loads((out / "config.json").read_text())["train"]["loggers"] == {"mlflow:mlflow": {}}

    client = MlflowClient(local_tracking_uri(out))
    (experiment,) = [e for e in client.search_experiments() if e.name == "artifex"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_id == json.loads((out / RUN_FILE).read_text())["run_id"]
    assert run.data.params["model.latent_dim"] == "2" and run.data.params["model.hidden_dims"] == "[8]"
    assert run.data.params["train.epochs"] == "2" and run.data.params["model.input_dim"] == "[6, 6, 1]"
    rows = RunDir(out).read_metrics()
    for tag in record_scalars(rows[-1]):
        history = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, tag))
        assert history == [(r["step"], pytest.approx(record_scalars(r)[tag], rel=1e-6)) for r in rows], tag
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"samples.png", "reconstructions.png", "traversals.png", "curves.png", "config.json"} <= artifacts
    assert Path(experiment.artifact_location.removeprefix("file://")) == out.resolve() / "mlartifacts"

    proc = artifex(["train", "--resume", "--out", str(out), "--epochs", "3", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    (again,) = client.search_runs([experiment.experiment_id])
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "test/loss")]
    assert sorted(steps) == [r["step"] for r in RunDir(out).read_metrics()] and len(steps) == 3
    assert again.data.tags["artifex.changed.train.epochs"] == "2 -> 3 (from epoch 3)"
