"""The ``mlflow`` logger: one MLflow run per artifex run folder.

What it logs (names from :mod:`artifex_core.training.tracking`, the same as the ``tensorboard`` logger's):

- params: the run's ``config.json`` flattened (``model.latent_dim``, ``train.lr``, ``dataset.name``, ...);
- metrics, at the global step: every epoch's ``train/<term>``, ``test/<term>``, ``lr`` and ``perf/*``, and
  every ``log_every`` steps ``train_log/<term>`` and ``train_log/lr``;
- artifacts: the pictures after each epoch's are drawn, and at the fit's end (or failure) every PNG of the
  run folder (``curves.png`` included), ``config.json`` and ``metrics.jsonl``;
- tags: ``artifex.run_dir`` (the folder, absolute) and ``artifex.version``; the run ends ``FINISHED``, or
  ``FAILED`` when the fit raised.

Where: the option ``tracking_uri``, else ``MLFLOW_TRACKING_URI``, else a store of the run folder's own:
``sqlite:///RUN/mlflow.db`` with artifacts in ``RUN/mlartifacts/`` (``mlflow ui --backend-store-uri
sqlite:///RUN/mlflow.db`` shows it). The experiment is the option ``experiment``, else
``MLFLOW_EXPERIMENT_NAME``, else ``artifex``; it is created when missing.

``RUN/mlflow.json`` remembers the run, so ``artifex train --resume`` logs into the same MLflow run. MLflow
cannot delete a metric point, so when the previous fit logged steps past the checkpoint resumed from (it
was killed between logging an epoch and checkpointing it), the resume opens a new MLflow run instead, with
the previous run's points up to that checkpoint copied in; the previous run ends ``KILLED``, tagged
``artifex.superseded_by``. A resume that changes the train config keeps the first values as params and
records each change as a tag ``artifex.changed.<param>``.

Example:
    >>> # artifex train --logger mlflow --out runs/demo
    >>> # mlflow.MlflowClient("sqlite:///runs/demo/mlflow.db").search_runs(["1"])
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artifex_core.atomic import atomic_write
from artifex_core.training.loggers import Logger
from artifex_core.training.tracking import log_scalars, record_scalars, run_params

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from mlflow import MlflowClient

    from artifex_core.training.callbacks import FitResult
    from artifex_core.training.trainer import Trainer

__all__ = ["RUN_FILE", "MlflowLogger", "local_tracking_uri"]

RUN_FILE = "mlflow.json"
"""The run folder's record of its MLflow run: ``tracking_uri``, ``experiment_id``, ``run_id``."""

_QUIET = ("alembic", "mlflow.store.db.utils", "mlflow.store.db")
_MAX_METRICS, _MAX_PARAMS = 1000, 100  # MLflow's limits per log_batch call


def local_tracking_uri(run_dir: str | Path) -> str:
    """The run folder's own store: ``sqlite:///<absolute RUN>/mlflow.db``.

    Example:
        >>> local_tracking_uri("/runs/demo")
        'sqlite:////runs/demo/mlflow.db'
    """
    return f"sqlite:///{(Path(run_dir).resolve() / 'mlflow.db').as_posix()}"


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the store's INFO lines (creating tables, migrations) while a store is opened."""
    loggers = [logging.getLogger(name) for name in _QUIET]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class MlflowLogger(Logger):
    """Logs an artifex run to MLflow (see the module docstring for what, where and how a resume is handled).

    Args:
        run_dir: The run folder.
        tracking_uri: The tracking store (default: ``MLFLOW_TRACKING_URI``, else the run folder's own).
        experiment: The experiment's name (default: ``MLFLOW_EXPERIMENT_NAME``, else ``artifex``).
        run_name: The MLflow run's name (default: the run folder's name).
        artifacts: Log the pictures, ``config.json`` and ``metrics.jsonl`` as artifacts.

    Attributes:
        tracking_uri: The store used.
        run_id: The MLflow run's id (after ``on_fit_start``).

    Raises:
        TypeError: An option of the wrong type.
        ValueError: An empty experiment or run name.
        ImportError: MLflow is not installed (with the command that installs it).
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        artifacts: bool = True,
    ) -> None:
        super().__init__(run_dir)
        for option, value in (("tracking_uri", tracking_uri), ("experiment", experiment), ("run_name", run_name)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"mlflow option {option!r} must be a string, got {value!r}")
            if value is not None and not value.strip():
                raise ValueError(f"mlflow option {option!r} must not be empty")
        if not isinstance(artifacts, bool):
            raise TypeError(f"mlflow option 'artifacts' must be true or false, got {artifacts!r}")
        try:
            import mlflow  # noqa: F401 - fail when the logger is built, not in the first epoch
        except ImportError as exc:
            raise ImportError(
                f"the mlflow logger needs MLflow: pip install mlflow-skinny sqlalchemy alembic ({exc})"
            ) from None
        given = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        self.local = not given
        self.tracking_uri: str = given or local_tracking_uri(self.run_dir)
        self.experiment = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "artifex"
        self.run_name = run_name or self.run_dir.resolve().name
        self.artifacts = artifacts
        self.run_id: str | None = None
        self._client: MlflowClient | None = None
        self._ended = False

    # -- the MLflow run -------------------------------------------------------------------------------

    @property
    def client(self) -> MlflowClient:
        """The ``MlflowClient`` of :attr:`tracking_uri` (created on first use)."""
        if self._client is None:
            from mlflow import MlflowClient

            with _quiet():
                self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def _experiment_id(self) -> str:
        with _quiet():
            found = self.client.get_experiment_by_name(self.experiment)
            if found is not None:
                return str(found.experiment_id)
            location = (self.run_dir.resolve() / "mlartifacts").as_uri() if self.local else None
            return str(self.client.create_experiment(self.experiment, artifact_location=location))

    def _previous_run(self) -> str | None:
        """The MLflow run this folder logged to before, when it is in this store and not deleted."""
        path = self.run_dir / RUN_FILE
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("tracking_uri") != self.tracking_uri:
            return None
        run_id = saved.get("run_id")
        try:
            run = self.client.get_run(str(run_id))
        except Exception:  # noqa: BLE001 - gone, or never in this store
            return None
        return None if run.info.lifecycle_stage == "deleted" else str(run_id)

    def _history(self, run_id: str) -> list[Any]:
        run = self.client.get_run(run_id)
        return [m for key in run.data.metrics for m in self.client.get_metric_history(run_id, key)]

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        """Open (or, on resume, continue) the MLflow run and log the params."""
        step = int(getattr(trainer, "step", 0) or 0)
        experiment_id = self._experiment_id()
        previous = self._previous_run()
        history = self._history(previous) if previous is not None else []
        params = {k: _text(v) for k, v in run_params(self.run_dir, trainer).items()}
        if previous is not None and start_epoch > 0 and all(m.step <= step for m in history):
            self.run_id = previous
            self.client.update_run(previous, status="RUNNING")
            self._log_new_params(params, start_epoch)
        else:
            from artifex_core import __version__

            tags = {"artifex.run_dir": str(self.run_dir.resolve()), "artifex.version": __version__}
            if previous is not None:
                tags["artifex.resumed_from"] = previous
            self.run_id = self.client.create_run(experiment_id, tags=tags, run_name=self.run_name).info.run_id
            self._log_params(params)
            if previous is not None:
                kept = [m for m in history if m.step <= step] if start_epoch > 0 else []
                self._log_metrics([(m.key, m.value, m.step, m.timestamp) for m in kept])
                self.client.set_tag(previous, "artifex.superseded_by", self.run_id)
                self.client.set_terminated(previous, status="KILLED")
        atomic_write(
            self.run_dir / RUN_FILE,
            json.dumps({"tracking_uri": self.tracking_uri, "experiment_id": experiment_id, "run_id": self.run_id},
                       indent=2) + "\n",
        )

    def _log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for chunk in _chunks(items, _MAX_PARAMS):
            self.client.log_batch(self._id, params=chunk)

    def _log_new_params(self, params: Mapping[str, str], start_epoch: int) -> None:
        """Log the params the run lacks; a changed value (MLflow params are immutable) becomes a tag."""
        logged = self.client.get_run(self._id).data.params
        self._log_params({k: v for k, v in params.items() if k not in logged})
        for key, value in params.items():
            if key in logged and logged[key] != value:
                change = f"{logged[key]} -> {value} (from epoch {start_epoch + 1})"
                self.client.set_tag(self._id, f"artifex.changed.{key}", change)

    def _log_metrics(self, points: Sequence[tuple[str, float, int, int | None]]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(key, float(value), int(stamp or now), int(step)) for key, value, step, stamp in points]
        for chunk in _chunks(metrics, _MAX_METRICS):
            self.client.log_batch(self._id, metrics=chunk)

    @property
    def _id(self) -> str:
        if self.run_id is None:
            raise RuntimeError("the mlflow logger has no run: on_fit_start was not called")
        return self.run_id

    # -- the hooks ------------------------------------------------------------------------------------

    def on_log(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None:
        """``train_log/*`` at ``step``."""
        self._log_metrics([(k, v, step, None) for k, v in log_scalars(trainer, step, metrics).items()])

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """The epoch's row at its step."""
        step = int(record.get("step", 0))
        self._log_metrics([(k, v, step, None) for k, v in record_scalars(record).items()])

    def on_images(self, trainer: Trainer, epoch: int, images: Mapping[str, np.ndarray]) -> None:
        """The epoch's pictures (their PNGs in the run folder) as artifacts, replacing the previous ones."""
        if self.artifacts:
            self._log_files([self.run_dir / f"{name}.png" for name in images])

    def _log_files(self, paths: Sequence[Path]) -> None:
        for path in paths:
            if path.is_file():
                self.client.log_artifact(self._id, str(path))

    def _end(self, status: str) -> None:
        if self.run_id is None or self._ended:
            return
        self._ended = True
        try:
            if self.artifacts:
                files = sorted(self.run_dir.glob("*.png"))
                self._log_files([*files, self.run_dir / "config.json", self.run_dir / "metrics.jsonl"])
        finally:
            self.client.set_terminated(self._id, status=status)

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        """Log the artifacts and end the run ``FINISHED``."""
        self._end("FINISHED")

    def close(self) -> None:
        """End a run that did not finish ``FAILED`` (after logging the artifacts there are)."""
        self._end("FAILED")
