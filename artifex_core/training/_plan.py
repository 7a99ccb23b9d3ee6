"""Plan a run once: every config resolved and every check made, before anything is built or written.

:func:`plan_run` turns a model config and a :class:`~artifex_core.training.TrainConfig` into a frozen
:class:`RunPlan`: the model config validated for the dataset, the dataset and its info, ``binarize="auto"``
resolved, the conditioning (labels, number of classes), the device mesh, the loggers (qualified ids), the run
folder and what a resume continues from. :func:`plan_fit` is its trainer part, a :class:`FitPlan`: what
:class:`~artifex_core.training.Trainer` is built from. :func:`~artifex_core.training.run_plan` executes a
plan; nothing here builds a model or writes a file.

Example:
    >>> import numpy as np
    >>> from artifex_core.data import Dataset
    >>> from artifex_core.training import TrainConfig
    >>> x = np.zeros((8, 4, 4, 1), np.uint8)
    >>> ds = Dataset.from_arrays("tiny", x, None, x, None)
    >>> plan = plan_fit(TrainConfig(dataset="tiny", batch_size=4), ds, devices=[])
    Traceback (most recent call last):
    ...
    artifex_core.training._config.TrainConfigError: no devices to train on
    >>> plan = plan_fit(TrainConfig(dataset="tiny", batch_size=4, data_parallel=False), ds)
    >>> plan.binarize, plan.steps_per_epoch, plan.mesh.size, plan.conditional
    ('none', 2, 1, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from artifex_core._config import ModelConfig
from artifex_core.data._dataset import Dataset
from artifex_core._params import DatasetInfo, params_of, requires_condition
from artifex_core.training._callbacks import Callback
from artifex_core.training._config import TrainConfig, TrainConfigError
from artifex_core.training._run_dir import RunDir, RunDirError

if TYPE_CHECKING:  # pragma: no cover - the mesh is made by plan_fit, which imports JAX when called
    import jax
    from jax.sharding import Mesh

__all__ = [
    "FitPlan",
    "RunPlan",
    "RunSetupError",
    "model_config_for",
    "plan_fit",
    "plan_run",
    "resolve_train_config",
]

Binarize = Literal["none", "dynamic", "fixed"]


class RunSetupError(ValueError):
    """The model config and the dataset do not fit together (shapes, labels)."""


@dataclass(frozen=True, eq=False)
class FitPlan:
    """What a :class:`~artifex_core.training.Trainer` trains with, resolved and checked by :func:`plan_fit`.

    Attributes:
        train_config: The train config, ``binarize`` resolved (never ``"auto"``).
        dataset: The train and test splits (checked: shapes, labels, no NaN).
        mesh: The data-parallel device mesh (the batch divides over it).
        conditional: The model takes labels (``batch={"x": x, "y": y}``).
        num_classes: The classes a conditional model knows (labels are checked against it), else None.
        run_dir: The run folder (None: nothing written, no resume).
        binarize: ``train_config.binarize``, typed as resolved: ``none``, ``dynamic`` or ``fixed``.
        steps_per_epoch: Full batches in the training split.
        data_placement: ``train_config.data_placement`` resolved: ``device`` or ``stream``.
    """

    train_config: TrainConfig
    dataset: Dataset
    mesh: Mesh
    conditional: bool
    num_classes: int | None
    run_dir: Path | None
    binarize: Binarize
    steps_per_epoch: int
    data_placement: Literal["device", "stream"] = "device"


@dataclass(frozen=True, eq=False)
class RunPlan:
    """A whole run, planned by :func:`plan_run` and executed by :func:`~artifex_core.training.run_plan`.

    Attributes:
        model_config: The model config, validated for the dataset and buildable.
        fit: The trainer's part: train config, dataset, mesh, binarization, conditioning, run folder.
        dataset_info: What the model's parameters derived from the data.
        run_dir: The run folder (checked trainable when planned).
        resume: Continue from the newest good checkpoint in ``run_dir``.
        previous: The ``config.json`` being resumed (None for a new run); its model equals ``model_config``.
        logger_objects: Logger objects attached to this run only (the named loggers are
            ``fit.train_config.loggers``, qualified, and recorded in ``config.json``).
        pictures: Write ``samples.png`` and friends after every epoch.
    """

    model_config: ModelConfig
    fit: FitPlan
    dataset_info: DatasetInfo
    run_dir: RunDir
    resume: bool = False
    previous: Mapping[str, Any] | None = None
    logger_objects: tuple[Callback, ...] = ()
    pictures: bool = True


def model_config_for(model_data: Mapping[str, Any] | ModelConfig, dataset: Dataset) -> ModelConfig:
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
    model_name = data.get("model", ModelConfig.model_fields["model"].default)
    params_cls = params_of(model_name)
    conditional = bool(data.get("conditional")) or requires_condition(model_name)
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


def resolve_train_config(train_cfg: TrainConfig, model_cfg: ModelConfig | None) -> TrainConfig:
    """``train_cfg`` with ``binarize="auto"`` resolved from the likelihood the model declares
    (:func:`artifex_core.binary_likelihood`); without a model config, ``"auto"`` means none."""
    resolved = train_cfg.resolved_binarize(model_cfg)
    return train_cfg if resolved == train_cfg.binarize else train_cfg.model_copy(update={"binarize": resolved})


def plan_fit(
    config: TrainConfig,
    dataset: Dataset,
    *,
    model_config: ModelConfig | None = None,
    conditional: bool | None = None,
    run_dir: str | Path | None = None,
    devices: Sequence[jax.Device] | None = None,
) -> FitPlan:
    """Check that ``config`` fits ``dataset`` and the devices, and resolve what the trainer needs.

    ``binarize="auto"`` is resolved from ``model_config``'s likelihood (none without one); ``conditional``
    and the classes the labels are checked against come from ``model_config`` unless given. The data are
    checked on the host (:func:`~artifex_core.data.check_training_data`): labels in ``[0, num_classes)``, one
    per image, consistent shapes, no NaN or inf.

    Args:
        config: The train config.
        dataset: Train and test splits.
        model_config: The model's config (binarization, conditioning), when there is one.
        conditional: Pass labels to the model (default: ``model_config.conditional``, else false).
        run_dir: The run folder (None: nothing written).
        devices: Devices of the data-parallel mesh (default: all local ones when ``config.data_parallel``,
            else the first).

    Raises:
        TrainConfigError: Labels missing for a conditional model, no devices, a batch larger than the training
            split, or a batch that does not divide over the devices.
        DatasetError: Bad data (the message names the split, the index and the value).
    """
    import jax

    from artifex_core.data._checks import check_training_data
    from artifex_core.training._sharding import make_mesh

    if conditional is None:
        conditional = bool(model_config is not None and model_config.conditional)
    num_classes = model_config.num_classes if conditional and model_config is not None else None
    if conditional and not dataset.has_labels:
        raise TrainConfigError(f"dataset {dataset.name!r} has no labels; a conditional model needs them")
    check_training_data(dataset, num_classes=num_classes, conditional=conditional)
    devs = list(devices) if devices is not None else jax.devices()
    if not devs:
        raise TrainConfigError("no devices to train on")
    mesh = make_mesh(devs if config.data_parallel else devs[:1])
    if config.batch_size % mesh.size:
        raise TrainConfigError(
            f"batch_size {config.batch_size} does not divide over {mesh.size} devices; "
            f"use a multiple of {mesh.size} or data_parallel=false"
        )
    if dataset.train_images.shape[0] < config.batch_size:
        raise TrainConfigError(
            f"batch_size {config.batch_size} is larger than the {dataset.train_images.shape[0]} training examples"
        )
    binarize = config.resolved_binarize(model_config)
    if binarize != config.binarize:
        config = config.model_copy(update={"binarize": binarize})
    placement = _placement(config, dataset, mesh)
    if placement != config.data_placement:
        config = config.model_copy(update={"data_placement": placement})
    return FitPlan(
        train_config=config,
        dataset=dataset,
        mesh=mesh,
        conditional=conditional,
        num_classes=num_classes,
        run_dir=Path(run_dir) if run_dir is not None else None,
        binarize=binarize,
        steps_per_epoch=int(dataset.train_images.shape[0]) // config.batch_size,
        data_placement=placement,
    )


def _placement(config: TrainConfig, dataset: Dataset, mesh: Mesh) -> Literal["device", "stream"]:
    """``config.data_placement`` resolved for ``dataset`` on ``mesh`` (see :mod:`artifex_core.data._placement`)."""
    import jax

    from artifex_core.data._placement import choose_placement, device_budget_bytes

    budget = None
    if config.data_placement == "auto":
        local = sum(1 for d in mesh.devices.flat if d.process_index == jax.process_index())
        budget = device_budget_bytes(config.device_data_budget_mb, local)
    return choose_placement(config.data_placement, dataset, budget_bytes=budget)


def _with_loggers(
    train_cfg: TrainConfig, loggers: Mapping[str, Mapping[str, Any]] | Sequence[str | Callback]
) -> tuple[TrainConfig, tuple[Callback, ...]]:
    """``train_cfg`` with the named ``loggers`` added and every name qualified, and the logger objects given.

    Raises:
        UnknownNameError: A name no registered logger answers to.
    """
    from artifex_core.training._loggers import qualify_loggers

    spec: dict[str, dict[str, Any]] = {name: dict(kwargs) for name, kwargs in train_cfg.loggers.items()}
    objects: list[Callback] = []
    items = loggers.items() if isinstance(loggers, Mapping) else [(item, {}) for item in loggers]
    for item, kwargs in items:
        if isinstance(item, str):
            spec.setdefault(item, {}).update(kwargs)
        else:
            objects.append(item)
    if spec:
        train_cfg = train_cfg.model_copy(update={"loggers": qualify_loggers(spec)})
    return train_cfg, tuple(objects)


def _check_same_model(stored: Mapping[str, Any], model_cfg: ModelConfig, run: RunDir) -> None:
    """A resumed run keeps its model: its checkpoints hold that model's arrays."""
    given = model_cfg.model_dump(mode="json")
    changed = [k for k in sorted(set(stored) | set(given)) if stored.get(k) != given.get(k)]
    if changed:
        what = ", ".join(f"{k} {stored.get(k)!r} -> {given.get(k)!r}" for k in changed[:3])
        raise RunDirError(
            f"--resume cannot change the model of {str(run.path)!r} ({what}); start a new run with another --out"
        )


def plan_run(
    model_config: Mapping[str, Any] | ModelConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    *,
    dataset: Dataset | None = None,
    resume: bool = False,
    devices: Sequence[jax.Device] | None = None,
    pictures: bool = True,
    loggers: Mapping[str, Mapping[str, Any]] | Sequence[str | Callback] = (),
) -> RunPlan:
    """Plan a run: resolve and check everything, in this order, before anything is built or written.

    1. the loggers (names qualified; an unknown one fails before anything is loaded);
    2. the run folder (not locked by another process; not someone's folder; a trained run needs ``resume``);
    3. the dataset (``dataset``, or ``load_dataset(train_config.dataset, ...)``);
    4. the model config for the dataset (:func:`model_config_for`) and, on ``resume``, that it is the run's;
    5. the trainer's part (:func:`plan_fit`): binarization, conditioning, data checks, the mesh;
    6. that the model fits in memory (:func:`~artifex_core.training.check_model_fits`).

    Args:
        model_config: The model (a mapping or a :class:`~artifex_core.ModelConfig`; completed and validated
            for the dataset).
        train_config: How to train (``binarize="auto"`` is resolved, and saved resolved).
        out_dir: The run folder.
        dataset: Already loaded data (default: loaded from ``train_config.dataset``).
        resume: Continue from the newest good checkpoint in ``out_dir`` (from scratch when there is none).
        devices: Devices for data parallelism (default: all local ones).
        pictures: Write ``samples.png`` and friends.
        loggers: Loggers besides ``train_config.loggers`` and the always-on ``jsonl``: registered names (or a
            mapping name -> keyword arguments), added to ``train_config.loggers`` and so recorded in
            ``config.json``; or :class:`~artifex_core.training.Logger` objects, attached to this run only.

    Raises:
        UnknownNameError: A logger name that no registered logger answers to.
        RunDirError: The folder is not trainable (foreign, trained without ``resume``, locked by another
            process), or ``resume`` would change the model.
        RunSetupError: The model config does not fit the dataset.
        pydantic.ValidationError: The model config is invalid or cannot be built.
        TrainConfigError: The train config does not fit the data or the devices.
        DatasetError: The dataset cannot be loaded or holds bad data.
        ResourceError: The model does not fit in memory.
    """
    train_config, objects = _with_loggers(train_config, loggers)  # before JAX is imported

    from artifex_core.data._loading import load_dataset
    from artifex_core.training._resources import check_model_fits
    from artifex_core.training._run_lock import RunLock
    from artifex_core.training._sharding import is_main_process

    run = RunDir(out_dir)
    main = is_main_process()
    if main:
        RunLock(run.path).check_free()  # a folder in use: name its holder
        run.check_trainable(resume=resume)  # someone's folder is refused before anything is loaded
    ds = dataset or load_dataset(train_config.dataset, limit=train_config.limit, **train_config.dataset_kwargs)
    model_cfg = model_config_for(model_config, ds)
    previous = run.read_config() if resume and main and run.exists() else None
    if previous is not None:
        _check_same_model(previous["model"], model_cfg, run)
    fit = plan_fit(train_config, ds, model_config=model_cfg, run_dir=run.path, devices=devices)
    check_model_fits(model_cfg, train_config.seed, copies=4.0, purpose="training")
    return RunPlan(
        model_config=model_cfg,
        fit=fit,
        dataset_info=DatasetInfo.of(ds),
        run_dir=run,
        resume=resume,
        previous=previous,
        logger_objects=objects,
        pictures=pictures,
    )
