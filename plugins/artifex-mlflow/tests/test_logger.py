"""The mlflow logger driven by hand against a real sqlite store, read back with ``MlflowClient``: params,
stepped metrics, artifacts and status; a resume continues the run, or replaces it when the killed fit logged
past its checkpoint; the tracking URI and experiment from the environment; bad options."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlflow import MlflowClient

from artifex_core.registry import loggers
from artifex_core.testing import check_logger
from artifex_core.training import FitResult, RunDir, TrainConfig
from artifex_core.training.tracking import record_scalars
from artifex_mlflow import MlflowLogger
from artifex_mlflow.logger import RUN_FILE, local_tracking_uri

STEPS = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite store for the module (creating its tables takes seconds), its artifacts beside it."""
    folder = tmp_path_factory.mktemp("store")
    uri = local_tracking_uri(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # MLflow fixes the store's artifact root, ./mlruns, when it first opens it
        MlflowClient(uri).search_experiments()
    return uri


def row(epoch: int, offset: float = 0.0) -> dict[str, Any]:
    return {"epoch": epoch, "step": epoch * STEPS, "train": {"loss": 10.0 / epoch + offset, "grad_norm": 1.5},
            "test": {"loss": 11.0 / epoch + offset, "kl_loss": 0.25}, "lr": 1e-3, "epoch_time_s": 0.5,
            "eval_time_s": 0.1, "examples_per_s": 64.0, "elapsed_s": 0.6 * epoch}


def make_run(path: Path, **train: Any) -> Path:
    run = RunDir(path)
    run.write_config({"model": {"latent_dim": 2, "hidden_dims": [8]}, "train": {"lr": 0.001, "epochs": 3, **train},
                      "dataset": {"name": "dots"}})
    return path


def fit(run: Path, start: int, stop: int, *, offset: float = 0.0, fail: bool = False, **options: Any) -> MlflowLogger:
    """Drive a fit as the trainer does: on_log twice an epoch, the epoch's row, its pictures."""
    log = MlflowLogger(run, **options)
    trainer = types.SimpleNamespace(step=start * STEPS, config=TrainConfig(epochs=stop, batch_size=8))
    log.on_fit_start(trainer, start)  # type: ignore[arg-type]
    for epoch in range(start + 1, stop + 1):
        for half in (1, 2):
            trainer.step = (epoch - 1) * STEPS + half * STEPS // 2
            log.on_log(trainer, trainer.step, {"loss": 9.0 / epoch + offset})  # type: ignore[arg-type]
        log.on_epoch_end(trainer, row(epoch, offset))  # type: ignore[arg-type]
        (run / "samples.png").write_bytes(b"png %d" % epoch)
        log.on_images(trainer, epoch, {"samples": np.zeros((2, 2, 1), np.uint8)})  # type: ignore[arg-type]
    if not fail:
        log.on_fit_end(trainer, FitResult())  # type: ignore[arg-type]
    log.close()
    return log


def steps(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def test_params_metrics_artifacts_and_status(tmp_path: Path, store: str) -> None:
    run = make_run(tmp_path / "run")
    (run / "curves.png").write_bytes(b"curves")
    log = fit(run, 0, 2, tracking_uri=store, experiment="unit")
    client = MlflowClient(store)
    got = client.get_run(log.run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "run"
    assert client.get_experiment(got.info.experiment_id).name == "unit"
    params = got.data.params
    assert params["model.latent_dim"] == "2" and params["model.hidden_dims"] == "[8]"
    assert params["train.lr"] == "0.001" and params["dataset.name"] == "dots"
    assert got.data.tags["artifex.run_dir"] == str(run.resolve())
    for tag in record_scalars(row(1)):
        assert steps(client, log.run_id, tag) == [(4, pytest.approx(record_scalars(row(1))[tag])),
                                                  (8, pytest.approx(record_scalars(row(2))[tag]))], tag
    assert [s for s, _ in steps(client, log.run_id, "train_log/loss")] == [2, 4, 6, 8]
    artifacts = {f.path for f in client.list_artifacts(log.run_id)}
    assert {"samples.png", "curves.png", "config.json"} <= artifacts
    local = Path(client.download_artifacts(log.run_id, "config.json", str(tmp_path)))
    assert json.loads(local.read_text()) == RunDir(run).read_config()
    assert json.loads((run / RUN_FILE).read_text())["run_id"] == log.run_id


def test_a_resume_continues_the_same_run_and_records_changed_params(tmp_path: Path, store: str) -> None:
    run = make_run(tmp_path / "run")
    first = fit(run, 0, 2, tracking_uri=store)
    make_run(run, epochs=4)  # --resume --epochs 4
    second = fit(run, 2, 4, tracking_uri=store)
    assert second.run_id == first.run_id
    client = MlflowClient(store)
    assert [s for s, _ in steps(client, first.run_id, "train/loss")] == [4, 8, 12, 16]
    got = client.get_run(first.run_id)
    assert got.info.status == "FINISHED" and got.data.params["train.epochs"] == "3"
    assert got.data.tags["artifex.changed.train.epochs"] == "3 -> 4 (from epoch 3)"


def test_a_resume_past_what_the_killed_fit_logged_replaces_the_run(tmp_path: Path, store: str) -> None:
    run = make_run(tmp_path / "run")
    killed = fit(run, 0, 3, fail=True, tracking_uri=store)  # logged epoch 3, killed before its checkpoint
    resumed = fit(run, 2, 3, offset=100.0, tracking_uri=store)  # resumed from the checkpoint of epoch 2
    assert resumed.run_id != killed.run_id
    client = MlflowClient(store)
    assert steps(client, resumed.run_id, "train/loss") == [(4, 10.0), (8, 5.0), (12, pytest.approx(10 / 3 + 100))]
    assert [s for s, _ in steps(client, resumed.run_id, "train_log/loss")] == [2, 4, 6, 8, 10, 12]
    old = client.get_run(killed.run_id)
    assert old.info.status == "KILLED" and old.data.tags["artifex.superseded_by"] == resumed.run_id
    assert client.get_run(resumed.run_id).data.tags["artifex.resumed_from"] == killed.run_id


def test_a_failed_fit_ends_failed_with_its_artifacts(tmp_path: Path, store: str) -> None:
    run = make_run(tmp_path / "run")
    log = fit(run, 0, 1, fail=True, tracking_uri=store)
    client = MlflowClient(store)
    assert client.get_run(log.run_id).info.status == "FAILED"
    assert {"samples.png", "config.json"} <= {f.path for f in client.list_artifacts(log.run_id)}


def test_the_environment_names_the_store_and_the_experiment(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    log = fit(make_run(tmp_path / "run"), 0, 1, artifacts=False)
    assert log.tracking_uri == store and not (tmp_path / "run" / "mlflow.db").exists()
    client = MlflowClient(store)
    got = client.get_run(log.run_id)
    assert client.get_experiment(got.info.experiment_id).name == "from-env"
    assert client.list_artifacts(log.run_id) == []


def test_registered_and_meets_the_logger_contract_with_a_store_in_the_run_folder() -> None:
    assert loggers.entry("mlflow").qualified_id == "mlflow:mlflow" and loggers.get("mlflow") is MlflowLogger
    report = check_logger("mlflow")
    assert report["logger"] == "MlflowLogger"
    assert {"mlflow.db", "mlflow.json"} <= set(report["files"])  # the local store, inside the run folder


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"tracking_uri": 3}, TypeError, "mlflow option 'tracking_uri' must be a string, got 3"),
        ({"experiment": " "}, ValueError, "mlflow option 'experiment' must not be empty"),
        ({"artifacts": "no"}, TypeError, "mlflow option 'artifacts' must be true or false, got 'no'"),
        ({"colour": "red"}, TypeError, "unexpected keyword argument 'colour'"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, options: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        MlflowLogger(tmp_path, **options)
    assert list(tmp_path.iterdir()) == []
