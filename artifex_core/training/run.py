"""Whole runs: build the model for a dataset, train into a run folder, write pictures; reload a run.

Example:
    >>> # from artifex_core.training.recipes import recipe
    >>> # model_part, train_part = recipe()  # the recipe registered as "default"
    >>> # ds = load_dataset(train_part["dataset"])
    >>> # run = run_training(model_config_for(model_part, ds), TrainConfig(**train_part), "runs/demo", dataset=ds)
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

from artifex_core.config import ModelConfig
from artifex_core.data.dataset import Dataset
from artifex_core.data.loading import load_dataset
from artifex_core.params import DatasetInfo, VariantParams, variant_params
from artifex_core.training.checkpoint import CheckpointError, Checkpointer
from artifex_core.training.state_paths import legacy_state_paths
from artifex_core.training.config import TrainConfig
from artifex_core.training.loggers import build_loggers, qualify_loggers
from artifex_core.training.optim import make_optimizer
from artifex_core.training.pictures import write_pictures
from artifex_core.training.resources import check_model_fits
from artifex_core.training.run_dir import RunDir, RunDirError
from artifex_core.training.run_lock import holding_lock
from artifex_core.training.segments import end_segment, start_segment
from artifex_core.training.sharding import is_main_process
from artifex_core.training.steps import split_params
from artifex_core.training.trainer import Callback, FitResult, NonFiniteLossError, Trainer, check_setup

__all__ = [
    "LoadedRun",
    "RunSetupError",
    "TrainingRun",
    "build_model",
    "load_run",
    "model_config_for",
    "run_training",
]


class RunSetupError(ValueError):
    """The model config and the dataset do not fit together (shapes, labels)."""


def _params_class(model: Any) -> type[VariantParams] | None:
    from artifex_core.registry import models

    try:
        entry = models.entry(str(model))
    except LookupError:
        return None  # an unknown name: ModelConfig's validation reports it
    return variant_params(entry)


def model_config_for(model_data: dict[str, Any] | ModelConfig, dataset: Dataset) -> ModelConfig:
    """Validate a model config for ``dataset``: what ``artifex train`` accepts, it can build.

    ``input_dim`` and ``num_classes`` default to the dataset's, and the parameters the model derives from the
    data (:meth:`VariantParams.dataset_defaults <artifex_core.VariantParams.dataset_defaults>`) fill in what the
    config leaves out. The result is checked with :meth:`ModelConfig.check_buildable`, as ``artifex validate``
    and ``artifex build`` check it.

    Raises:
        RunSetupError: The shapes differ, or a conditional model meets an unlabelled dataset.
        pydantic.ValidationError: The config itself is invalid, or cannot be built.
    """
    data = model_data.model_dump(mode="json") if isinstance(model_data, ModelConfig) else dict(model_data)
    if data.get("input_dim") is None:
        data["input_dim"] = list(dataset.example_shape)
    params_cls = _params_class(data.get("model", "vae"))
    conditional = bool(data.get("conditional")) or (params_cls is not None and params_cls.requires_condition)
    if conditional:
        if not dataset.has_labels:
            raise RunSetupError(
                f"model {data.get('model')!r} is conditional but dataset {dataset.name!r} has no labels"
            )
        if data.get("num_classes") is None:
            data["num_classes"] = dataset.num_classes
    if params_cls is not None:
        derived = params_cls.dataset_defaults(DatasetInfo.of(dataset))
        given = dict(data.get("parameters") or {})
        filled = {k: v for k, v in derived.items() if given.get(k) is None}
        if filled:
            data["parameters"] = {**given, **filled}
    cfg = ModelConfig.model_validate(data)
    shape = dataset.example_shape
    if tuple(cfg.input_dim) != shape:
        raise RunSetupError(
            f"input_dim {list(cfg.input_dim)} does not match dataset {dataset.name!r} examples of shape {list(shape)}"
        )
    if tuple(cfg.output_dim or ()) != shape:
        raise RunSetupError(f"output_dim {list(cfg.output_dim or ())} must equal the example shape {list(shape)}")
    if cfg.conditional and dataset.num_classes is not None and cfg.num_classes is not None:
        if dataset.num_classes > cfg.num_classes:
            raise RunSetupError(
                f"num_classes {cfg.num_classes} is smaller than dataset {dataset.name!r}'s "
                f"{dataset.num_classes} classes"
            )
    return cfg.check_buildable()


def build_model(cfg: ModelConfig, seed: int = 0) -> nnx.Module:
    """``create_model(cfg, rngs=nnx.Rngs(seed))``, built under ``nnx.jit``.

    Every eager initializer op compiles on its own; one jitted build compiles once (and hits the persistent
    compilation cache next time). A model whose construction cannot be traced is built eagerly.
    """
    from artifex_core.factory import create_model

    try:
        return nnx.jit(lambda: create_model(cfg, rngs=nnx.Rngs(seed)))()
    except Exception:  # noqa: BLE001 - untraceable constructors (and real errors, re-raised below) go eager
        return create_model(cfg, rngs=nnx.Rngs(seed))


def resolve_train_config(train_cfg: TrainConfig, model_cfg: ModelConfig) -> TrainConfig:
    """``train_cfg`` with ``binarize="auto"`` resolved from the likelihood the model declares
    (:func:`artifex_core.params.binary_likelihood`)."""
    return train_cfg.model_copy(update={"binarize": train_cfg.resolved_binarize(model_cfg)})


@dataclass
class TrainingRun:
    """What :func:`run_training` returns."""

    result: FitResult
    model: nnx.Module
    model_config: ModelConfig
    train_config: TrainConfig
    run_dir: RunDir
    dataset: Dataset
    pictures: list[Path] = field(default_factory=list)


def _payload(model_cfg: ModelConfig, train_cfg: TrainConfig, dataset: Dataset, n_devices: int) -> dict[str, Any]:
    from artifex_core import __version__
    from artifex_core.report.provenance import provenance

    return {
        "model": model_cfg.model_dump(mode="json"),
        "train": train_cfg.model_dump(mode="json"),
        "dataset": dataset.describe(),
        "devices": n_devices,
        "artifex_version": __version__,
        "provenance": provenance(model_cfg.model),  # the model's plugin and the package versions
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def run_training(
    model_cfg: ModelConfig,
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
    """Train ``model_cfg`` as ``train_cfg`` says into the run folder ``out_dir``.

    Writes ``config.json``, ``metrics.jsonl``, ``checkpoints/`` and (when ``pictures``) the pictures. The folder
    is checked before anything is loaded (a non-empty folder that is not an artifex run is refused) and locked
    while training. On ``resume``, what changed in ``train_cfg`` is recorded in ``config.json``'s ``segments``
    with the epoch it applies from, and undone there if the run diverges.

    Args:
        model_cfg: The model (validated against the dataset by :func:`model_config_for`).
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
    """
    train_cfg, objects = _with_loggers(train_cfg, loggers)
    run = RunDir(out_dir)
    if is_main_process():
        run.check_trainable(resume=resume)  # before anything is loaded or written
    ds = dataset or load_dataset(train_cfg.dataset, limit=train_cfg.limit, **train_cfg.dataset_kwargs)
    model_cfg = model_config_for(model_cfg, ds)
    train_cfg = resolve_train_config(train_cfg, model_cfg)
    num_classes = model_cfg.num_classes if model_cfg.conditional else None
    check_setup(train_cfg, ds, conditional=model_cfg.conditional, devices=devices, num_classes=num_classes)
    if not is_main_process():
        return _train(model_cfg, train_cfg, run, ds, resume, callbacks, devices, pictures=False)
    with holding_lock(run.path):
        run.write_marker()
        previous = run.read_config() if resume and run.exists() else None
        if previous is not None:
            _check_same_model(previous["model"], model_cfg, run)
        return _train(model_cfg, train_cfg, run, ds, resume, callbacks, devices, pictures, previous, objects)


def _with_loggers(
    train_cfg: TrainConfig, loggers: Mapping[str, Mapping[str, Any]] | Sequence[str | Callback]
) -> tuple[TrainConfig, list[Callback]]:
    """``train_cfg`` with the named ``loggers`` added (as qualified ids), and the logger objects given."""
    spec: dict[str, dict[str, Any]] = {name: dict(kwargs) for name, kwargs in train_cfg.loggers.items()}
    objects: list[Callback] = []
    items = loggers.items() if isinstance(loggers, Mapping) else [(item, {}) for item in loggers]
    for item, kwargs in items:
        if isinstance(item, str):
            spec.setdefault(item, {}).update(kwargs)
        else:
            objects.append(item)
    if not spec:
        return train_cfg, objects
    return train_cfg.model_copy(update={"loggers": qualify_loggers(spec)}), objects


def _check_same_model(stored: dict[str, Any], model_cfg: ModelConfig, run: RunDir) -> None:
    """A resumed run keeps its model: its checkpoints hold that model's arrays."""
    given = model_cfg.model_dump(mode="json")
    changed = [k for k in sorted(set(stored) | set(given)) if stored.get(k) != given.get(k)]
    if changed:
        what = ", ".join(f"{k} {stored.get(k)!r} -> {given.get(k)!r}" for k in changed[:3])
        raise RunDirError(
            f"--resume cannot change the model of {str(run.path)!r} ({what}); start a new run with another --out"
        )


def _train(
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    run: RunDir,
    ds: Dataset,
    resume: bool,
    callbacks: Sequence[Callback],
    devices: Sequence[jax.Device] | None,
    pictures: bool,
    previous: dict[str, Any] | None = None,
    objects: Sequence[Callback] = (),
) -> TrainingRun:
    check_model_fits(model_cfg, train_cfg.seed, copies=4.0, purpose="training")
    model = build_model(model_cfg, train_cfg.seed)
    painter = _Pictures(ds, run.path, model_cfg.num_classes if model_cfg.conditional else None, train_cfg.seed)
    extra: list[Callback] = [painter] if pictures else []
    record = _RecordConfig(run, previous) if is_main_process() else None
    loggers = [*build_loggers(train_cfg.loggers, run.path), *objects] if is_main_process() else []
    trainer = Trainer(
        model, train_cfg, ds, run_dir=run.path, conditional=model_cfg.conditional, devices=devices,
        callbacks=[*([record] if record else []), *extra, *callbacks], loggers=loggers,
    )
    if record is not None:  # before the first step, so that a run killed while compiling can resume
        record.begin(_payload(model_cfg, train_cfg, ds, trainer.mesh.size), _newest_epoch(run) if resume else 0)
    try:
        result = trainer.fit(resume=resume)
    except NonFiniteLossError as exc:
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
    if record is not None:
        record.end("finished")
    if extra and not result.history:  # nothing trained now (a finished run resumed): draw the final state
        painter.draw(model)
    return TrainingRun(result, model, model_cfg, train_cfg, run, ds, painter.paths)


def _newest_epoch(run: RunDir) -> int:
    if not run.checkpoints.is_dir():
        return 0
    return max((int(p.name) for p in run.checkpoints.iterdir() if p.is_dir() and p.name.isdigit()), default=0)


class _RecordConfig(Callback):
    """Keeps ``config.json``: the configs and this segment (from which epoch, what changed, how it ended)."""

    def __init__(self, run: RunDir, previous: dict[str, Any] | None) -> None:
        self.run, self.previous = run, previous
        self.config: dict[str, Any] | None = None

    def begin(self, payload: dict[str, Any], from_epoch: int) -> None:
        self.config = start_segment(self.previous, payload, from_epoch=from_epoch)
        self.run.write_config(self.config)

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        segment = self.config["segments"][-1] if self.config else None
        if segment is not None and segment["from_epoch"] != start_epoch:  # fell back past a damaged checkpoint
            segment["from_epoch"] = start_epoch
            self.run.write_config(self.config)  # type: ignore[arg-type]  # a segment exists, so config is set

    def end(self, status: str, **facts: Any) -> dict[str, list[Any]]:
        if self.config is None:
            return {}
        self.config, reverted = end_segment(self.config, status, **facts)
        self.run.write_config(self.config)
        return reverted


class _Pictures(Callback):
    """Redraws the run folder's pictures after every epoch, so a long or killed run has current ones."""

    def __init__(self, dataset: Dataset, out: Path, num_classes: int | None, seed: int) -> None:
        n = min(32, dataset.test_images.shape[0])
        self.x = dataset.x_test[:n]
        self.y = dataset.test_labels[:n] if dataset.test_labels is not None else None
        self.out, self.num_classes, self.seed = out, num_classes, seed
        self.paths: list[Path] = []

    def draw(self, model: nnx.Module) -> None:
        self.paths = write_pictures(model, self.x, self.y, self.out, num_classes=self.num_classes, seed=self.seed)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.draw(trainer.snapshot())


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
    template = {"params": params, "rest": rest, "opt_state": make_optimizer(train_cfg, 1).init(params)}
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
