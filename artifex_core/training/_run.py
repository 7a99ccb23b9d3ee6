"""Whole runs: execute a :class:`~artifex_core.training.RunPlan` into its run folder; reload a run.

:func:`run_training` is :func:`~artifex_core.training.plan_run` (every config resolved and checked,
nothing written) followed by :func:`run_plan` (lock the folder, build the model, train, write the pictures).

Example:
    >>> # from artifex_core.training._recipes import recipe
    >>> # model_part, train_part = recipe()  # the recipe registered as "default"
    >>> # run = run_training(model_part, TrainConfig(**train_part), "runs/demo")
    >>> # or in two steps: plan = plan_run(model_part, TrainConfig(**train_part), "runs/demo"); run_plan(plan)
    >>> # loaded = load_run("runs/demo"); loaded.model.sample(4)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
from flax import nnx

from artifex_core._config import ModelConfig
from artifex_core.data._dataset import Dataset
from artifex_core.training._checkpoint import Checkpointer
from artifex_core.training._manifest import CheckpointError
from artifex_core.training._state_paths import legacy_state_paths
from artifex_core.training._config import TrainConfig
from artifex_core.training._curves import CurvesCallback
from artifex_core.training._loggers import Logger, build_loggers
from artifex_core.training._groups import optimizer_groups_of
from artifex_core.training._optim import make_optimizer
from artifex_core.training._painter import PicturePainter
from artifex_core.training._pictures import save_pictures
from artifex_core.training._plan import RunPlan, RunSetupError, model_config_for, plan_run, resolve_train_config
from artifex_core.training._resources import check_model_fits
from artifex_core.training._run_dir import RunDir, RunDirError
from artifex_core.training._run_lock import holding_lock
from artifex_core.training._segments import SegmentRecorder
from artifex_core.training._sharding import is_main_process, to_local
from artifex_core.training._steps import split_params
from artifex_core.training._tracking import read_pictures
from artifex_core.training._trainer import Callback, FitResult, NonFiniteLossError, Trainer
from artifex_core.training._writer import BackgroundWriter

__all__ = [
    "LoadedRun",
    "RunSetupError",
    "TrainingRun",
    "build_model",
    "load_run",
    "model_config_for",
    "resolve_train_config",
    "run_plan",
    "run_training",
]


def build_model(cfg: ModelConfig, seed: int = 0) -> nnx.Module:
    """``create_model(cfg, rngs=nnx.Rngs(seed))``, built under ``nnx.jit``.

    Every eager initializer op compiles on its own; one jitted build compiles once (and hits the persistent
    compilation cache next time). A model whose construction cannot be traced is built eagerly.
    """
    from artifex_core._factory import create_model

    try:
        return nnx.jit(lambda: create_model(cfg, rngs=nnx.Rngs(seed)))()
    except Exception:  # noqa: BLE001 - untraceable constructors (and real errors, re-raised below) go eager
        return create_model(cfg, rngs=nnx.Rngs(seed))


@dataclass
class TrainingRun:
    """What :func:`run_training` and :func:`run_plan` return."""

    result: FitResult
    model: nnx.Module
    model_config: ModelConfig
    train_config: TrainConfig
    run_dir: RunDir
    dataset: Dataset
    pictures: list[Path] = field(default_factory=list)


def run_training(
    model_cfg: ModelConfig | Mapping[str, Any],
    train_cfg: TrainConfig,
    out_dir: str | Path,
    *,
    dataset: Dataset | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
    devices: Sequence[jax.Device] | None = None,
    pictures: bool = True,
    loggers: Mapping[str, Mapping[str, Any]] | Sequence[str | Callback] = (),
) -> TrainingRun:
    """Train ``model_cfg`` as ``train_cfg`` says into the run folder ``out_dir``: ``run_plan(plan_run(...))``.

    Writes ``config.json``, ``metrics.jsonl``, ``checkpoints/`` and (when ``pictures``) the pictures. The folder
    is checked before anything is loaded (a non-empty folder that is not an artifex run is refused) and locked
    while training. On ``resume``, what changed in ``train_cfg`` is recorded in ``config.json``'s ``segments``
    with the epoch it applies from, and undone there if the run diverges.

    Args:
        model_cfg: The model (a mapping or a config, completed and validated for the dataset by
            :func:`model_config_for`).
        train_cfg: How to train (``binarize="auto"`` is resolved and saved resolved).
        out_dir: The run folder.
        dataset: Already loaded data (default: ``load_dataset(train_cfg.dataset, ...)``).
        resume: Continue from the latest checkpoint in ``out_dir`` (from scratch when there is none).
        callbacks: Trainer callbacks (progress bars, ...).
        devices: Devices for data parallelism (default: all local ones).
        pictures: Write ``samples.png`` and friends at the end.
        loggers: Loggers to attach besides ``train_cfg.loggers`` and the always-on ``jsonl``: registered
            names (or a mapping name -> keyword arguments), added to ``train_cfg.loggers`` and so recorded in
            ``config.json``; or :class:`~artifex_core.training.Logger` objects, attached to this call only.
            Names are saved as qualified ids (``plugin:name``).

    Raises:
        UnknownNameError: A logger name that no registered logger answers to (before anything is loaded).
        RunDirError: The folder is not trainable (foreign, trained without ``resume``, locked by another
            process), or ``resume`` would change the model.
        NonFiniteLossError: Training diverged (checkpoints are kept; this run's train changes are undone).
        Exception: Whatever :func:`~artifex_core.training.plan_run` raises for a config that does not fit.
    """
    plan = plan_run(
        model_cfg, train_cfg, out_dir, dataset=dataset, resume=resume, devices=devices, pictures=pictures,
        loggers=loggers,
    )
    return run_plan(plan, callbacks=callbacks)


def run_plan(plan: RunPlan, *, callbacks: Sequence[Callback] = ()) -> TrainingRun:
    """Execute ``plan`` (from :func:`~artifex_core.training.plan_run`): train into its run folder.

    In the main process, the folder is locked for the whole run, checked again under the lock (another
    writer may have trained there since it was planned), marked as an artifex run, and its ``config.json``
    kept by a :class:`~artifex_core.training._segments.SegmentRecorder`. Then the model is built and a
    :class:`Trainer` made from ``plan.fit`` trains it.

    Args:
        plan: The run.
        callbacks: Trainer callbacks (progress bars, ...), after the run's own.

    Raises:
        RunDirError: The folder was taken or changed since it was planned.
        NonFiniteLossError: Training diverged (checkpoints are kept; this run's train changes are undone).
        CheckpointError: ``resume`` found checkpoints but none is usable.
    """
    if not is_main_process():
        return _execute(plan, callbacks, None)
    run = plan.run_dir
    with holding_lock(run.path):
        run.check_trainable(resume=plan.resume)
        if plan.resume and run.exists() and run.read_config() != plan.previous:
            raise RunDirError(f"{str(run.path)!r} changed while the run was planned; run the command again")
        run.write_marker()
        return _execute(plan, callbacks, SegmentRecorder(run, plan.previous, _config_payload(plan)))


def _config_payload(plan: RunPlan) -> dict[str, Any]:
    """The ``config.json`` of the run's new segment, before its ``segments`` entry is added."""
    from artifex_core import __version__
    from artifex_core._xla_tuning import last_xla_tuning
    from artifex_core.report._provenance import provenance

    return {
        "model": plan.model_config.model_dump(mode="json"),
        "train": plan.fit.train_config.model_dump(mode="json"),
        "dataset": plan.fit.dataset.describe(),
        "devices": int(plan.fit.mesh.size),
        "processes": _process_count(plan),  # the processes whose devices the mesh spans
        "artifex_version": __version__,
        "provenance": provenance(plan.model_config.model),  # the model's plugin and the package versions
        "xla": last_xla_tuning().as_record(),  # the XLA flags the run used and why (auto / user / off)
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _process_count(plan: RunPlan) -> int:
    """How many processes own devices of the run's mesh (1 unless it runs on JAX's distributed runtime)."""
    return len({d.process_index for d in plan.fit.mesh.devices.flat})


def _execute(plan: RunPlan, callbacks: Sequence[Callback], record: SegmentRecorder | None) -> TrainingRun:
    main = record is not None
    fit, seed = plan.fit, plan.fit.train_config.seed
    model = build_model(plan.model_config, seed)
    writer = BackgroundWriter()  # the pictures and curves.png, written while the next epoch trains
    painter = _Pictures(fit.dataset, plan.run_dir.path, fit.num_classes, seed, writer)
    extra: list[Callback] = [painter] if plan.pictures and main else []
    # curves.png, from metrics.jsonl
    curves: list[Callback] = [CurvesCallback(plan.run_dir.path, writer=writer)] if main else []
    loggers = [*build_loggers(fit.train_config.loggers, plan.run_dir.path), *plan.logger_objects] if main else []
    trainer = Trainer(
        model, fit, callbacks=[*([record] if record else []), *curves, *extra, *callbacks], loggers=loggers
    )
    try:
        result = trainer.fit(resume=plan.resume)
    except NonFiniteLossError as exc:
        writer.close(raise_errors=False)  # the pictures of the last good epoch are written
        if record is None or record.config is None:
            raise
        reverted = record.end("diverged", step=exc.step, epoch=exc.epoch)
        if not reverted:
            raise
        undone = ", ".join(f"{k}={after!r}" for k, (_, after) in reverted.items())
        kept = ", ".join(f"{k}={before!r}" for k, (before, _) in reverted.items())
        raise NonFiniteLossError(
            f"{exc}; this run's changes ({undone}) were not kept: a plain --resume continues with {kept}",
            exc.step, exc.epoch, exc.last_good_epoch,
        ) from None
    except BaseException:
        writer.close(raise_errors=False)  # the first error wins
        raise
    if record is not None:
        record.end("finished")
    if extra and not result.history:  # nothing trained now (a finished run resumed): draw the final state
        painter.draw(model)
    writer.close()
    return TrainingRun(result, model, plan.model_config, fit.train_config, plan.run_dir, fit.dataset, painter.paths)


class _Pictures(Callback):
    """Redraws the run folder's pictures after every epoch, so a long or killed run has current ones.

    Each epoch's pictures are computed by one compiled call (:class:`PicturePainter`) and written by the
    ``writer`` thread while the next epoch trains. The previous epoch's are joined before the next draw and at
    the end of the fit (a writer's error is raised there): a finished run has its final pictures. When a
    logger has its own ``on_images``, the epoch's pictures are joined and handed to it at that epoch's end, so
    it logs them at that epoch's step.
    """

    def __init__(
        self, dataset: Dataset, out: Path, num_classes: int | None, seed: int, writer: BackgroundWriter
    ) -> None:
        n = min(32, dataset.test_images.shape[0])
        y = dataset.test_labels[:n] if dataset.test_labels is not None else None
        self.painter = PicturePainter(dataset.x_test[:n], y, num_classes=num_classes, seed=seed)
        self.out, self.writer = out, writer
        self.paths: list[Path] = []
        self._images: tuple[int, dict[str, Any]] | None = None  # written, not yet given to the loggers

    def _arrays(self, model: nnx.Module) -> dict[str, Any]:
        if jax.process_count() > 1:  # process 0 draws alone: with its own copy of the replicated state
            graphdef, state = nnx.split(model)
            model = nnx.merge(graphdef, to_local(state))
        return self.painter.arrays(model)

    def _submit(self, model: nnx.Module, epoch: int | None) -> None:
        arrays = self._arrays(model)

        def write() -> None:
            self.paths = save_pictures(arrays, self.out, per_row=self.painter.per_row)
            if epoch is not None:
                self._images = (epoch, read_pictures(self.paths))

        self.writer.submit(write)

    def draw(self, model: nnx.Module) -> None:
        """Draw ``model``'s pictures now (written when this returns)."""
        self.writer.join()
        self._submit(model, None)
        self.writer.join()

    def _deliver(self, trainer: Trainer) -> None:
        """Join the pictures being written; hand the written ones to the loggers."""
        self.writer.join()
        if self._images is not None:
            epoch, images = self._images
            self._images = None
            trainer.loggers.call("on_images", trainer, epoch, images)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._deliver(trainer)
        wants = _wants_images(trainer)
        self._submit(trainer.snapshot(), record["epoch"] if wants else None)
        if wants:  # loggers log images at the trainer's current step: hand them this epoch's pictures now
            self._deliver(trainer)

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        self._deliver(trainer)


def _wants_images(trainer: Trainer) -> bool:
    """Whether an active logger has an ``on_images`` of its own (the base class's does nothing)."""
    return any(
        getattr(type(logger), "on_images", None) not in (None, Logger.on_images) for logger in trainer.loggers.active
    )


@dataclass
class LoadedRun:
    """A trained model restored from its run folder."""

    model: nnx.Module
    model_config: ModelConfig
    train_config: TrainConfig
    epoch: int
    meta: dict[str, Any]
    run_dir: RunDir
    config: dict[str, Any]


def load_run(run_dir: str | Path, checkpoint: str | int = "latest") -> LoadedRun:
    """Rebuild the model of a run folder and restore a checkpoint into it (in eval mode).

    Args:
        run_dir: The run folder.
        checkpoint: ``"latest"``, ``"best"`` or an epoch number. ``latest`` and ``best`` fall back to the newest
            good checkpoint when theirs is damaged (one :class:`CheckpointWarning`); a number is that one only.

    Reading takes no lock and changes nothing, so it works while a run is writing the folder.

    Raises:
        RunDirError: Not a run folder, no checkpoint, or no such checkpoint.
        CheckpointError: No usable checkpoint (one line naming the run folder and each fault).
    """
    run = RunDir(run_dir)
    config = run.read_config()
    model_cfg = ModelConfig.model_validate(config["model"])
    train_cfg = TrainConfig.model_validate(config["train"])
    if not run.has_checkpoints():
        raise RunDirError(f"run folder {str(run.path)!r} has no checkpoint yet")
    check_model_fits(model_cfg, train_cfg.seed, copies=3.0, purpose="loading it")
    model = build_model(model_cfg, train_cfg.seed)
    model.train()
    _, params, rest = split_params(model)
    tx = make_optimizer(train_cfg, 1, optimizer_groups_of(model))
    template = {"params": params, "rest": rest, "opt_state": tx.init(params)}
    with Checkpointer(run.checkpoints, read_only=True) as ckpt:
        have = ckpt.epochs()
        if checkpoint in ("latest", "best"):
            first = ckpt.best_epoch() if checkpoint == "best" else None
            candidates = ([first] if first in have else []) + [e for e in reversed(have) if e != first]
        else:
            try:
                epoch = int(checkpoint)
            except (TypeError, ValueError):
                raise RunDirError(
                    f"checkpoint must be 'latest', 'best' or an epoch number, got {checkpoint!r}"
                ) from None
            if epoch not in have:
                raise RunDirError(f"no checkpoint {checkpoint!r} in {str(run.checkpoints)!r} (have: {have or 'none'})")
            candidates = [epoch]
        try:
            epoch, state, meta, _ = ckpt.restore_first_good(template, candidates, legacy_state_paths(model))
        except CheckpointError as exc:
            raise CheckpointError(f"run folder {str(run.path)!r}: {exc}") from None
    nnx.update(model, state["params"], state["rest"])
    model.eval()
    return LoadedRun(model, model_cfg, train_cfg, epoch, meta, run, config)
