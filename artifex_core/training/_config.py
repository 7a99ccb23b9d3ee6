"""``TrainConfig``: how to train (data, optimizer, schedule, checkpoints). Pydantic only, no JAX.

Example:
    >>> cfg = TrainConfig(epochs=2, lr=3e-4, schedule="warmup_cosine", warmup_steps=100)
    >>> cfg.optimizer, cfg.batch_size, cfg.binarize
    ('adam', 128, 'auto')
    >>> from pydantic import ValidationError
    >>> try:
    ...     TrainConfig(optimiser="adam")
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["loc"], exc.errors()[0]["type"])
    ('optimiser',) extra_forbidden
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from artifex_core._params import binary_likelihood

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core._config import ModelConfig

__all__ = [
    "DATA_PLACEMENTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "DataPlacement",
    "Optimizer",
    "Schedule",
    "TrainConfig",
    "TrainConfigError",
]


class TrainConfigError(ValueError):
    """A train config that does not fit the data, the devices or the optimizer (e.g. a batch too large)."""

Optimizer: TypeAlias = Literal[
    "adam", "adamw", "sgd", "rmsprop", "adagrad", "adabelief", "lamb", "lion", "nadam", "radam", "adamax"
]
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
"""Optimizer names, each the optax function of the same name."""

Schedule: TypeAlias = Literal["constant", "cosine", "warmup_cosine"]
DataPlacement: TypeAlias = Literal["auto", "device", "stream"]
DATA_PLACEMENTS: tuple[str, ...] = get_args(DataPlacement)
"""Where the training data live: on the devices, streamed from the host, or chosen by size."""
SCHEDULES: tuple[str, ...] = get_args(Schedule)


class TrainConfig(BaseModel):
    """Everything about a training run except the model.

    Attributes:
        dataset: Registered dataset name ("mnist", "fashion_mnist", a plugin's) or a ``.npz`` / image folder path;
            left out, the dataset of the recipe registered as ``default`` (an error when there is none).
        dataset_kwargs: Extra arguments of the dataset loader.
        limit: Use only the first ``limit`` examples of each split (quick runs and tests).
        epochs: Number of passes over the training split.
        batch_size: Examples per step (split over all local devices; must divide by their number).
        eval_batch_size: Examples per evaluation batch on the test split.
        optimizer: An optax optimizer name (see :data:`OPTIMIZERS`).
        lr: Peak learning rate.
        weight_decay: Decoupled weight decay of adamw, lamb and lion (None: optax's default); an error for others.
        optimizer_kwargs: Extra arguments of the optax optimizer (e.g. ``{"b2": 0.99}``).
        schedule: ``constant``, ``cosine`` (decay to ``lr * final_lr_factor``) or ``warmup_cosine``.
        warmup_steps: Linear warmup steps of ``warmup_cosine``.
        final_lr_factor: Final learning rate as a fraction of ``lr`` for the cosine schedules.
        grad_clip: Clip gradients to this global norm (None: no clipping).
        group_optimizers: Optimizer settings of the parameter groups a model declares (its
            ``optimizer_groups``, e.g. FactorVAE's ``discriminator``): group name -> train config optimizer
            fields (``lr``, ``optimizer``, ``optimizer_kwargs``, ...), over the group's own defaults.
        seed: Seed of the model's initialization and sampling, the shuffling and the binarization.
        binarize: ``none``, ``dynamic`` (fresh Bernoulli bits every epoch), ``fixed`` (seeded, once) or
            ``auto`` (dynamic when the likelihood the model declares is registered for binary data, as the
            built-in ``bce`` is; otherwise none).
            The test split is always binarized with a fixed seed when binarizing.
        binarize_seed: Seed of the fixed binarizations (independent of ``seed`` so test sets stay comparable).
        steps_per_dispatch: Training steps per jitted call (a ``lax.scan``); None chooses 1 for models with
            convolutions (slower inside scan on CPU) and 10 otherwise.
        log_every: Fetch metrics from the device (and check for NaN) every this many steps.
        keep_checkpoints: Keep the last N checkpoints (the best one is kept as well).
        data_parallel: Shard each batch over all local devices (parameters replicated).
        data_placement: Where the training data live: ``device`` (both splits on every device, batches
            gathered inside the jitted step: the fast path), ``stream`` (the splits stay on the host, memory-mapped
            when packed; each process gathers its rows of every batch and feeds them, prefetched) or ``auto``
            (``stream`` when the splits do not fit in ``device_data_budget_mb``). The plan resolves ``auto``
            and ``config.json`` records the choice. Both paths give the same batches and metrics.
        device_data_budget_mb: The most MiB of data ``auto`` puts on each device (None: half of the first
            device's free memory, shared by the process's devices on CPU).
        loggers: Registered loggers to attach besides the always-on ``jsonl``: name or qualified id -> its
            keyword arguments (``artifex train --logger NAME`` adds ``NAME: {}``). ``config.json`` keeps it,
            so ``--resume`` attaches the same loggers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    if TYPE_CHECKING:  # optional to construct: _default_dataset fills it from the default recipe
        dataset: str = ""
    else:
        dataset: str = Field(description="Registered dataset name or a .npz / image folder path (default: the default recipe's).")
    dataset_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra dataset loader arguments.")
    limit: PositiveInt | None = Field(None, description="Use only the first N examples of each split.")
    epochs: PositiveInt = Field(10, description="Passes over the training split.")
    batch_size: PositiveInt = Field(128, description="Examples per training step.")
    eval_batch_size: PositiveInt = Field(1000, description="Examples per evaluation batch.")
    optimizer: Optimizer = Field("adam", description="optax optimizer name.")
    lr: PositiveFloat = Field(1e-3, description="Peak learning rate.")
    weight_decay: float | None = Field(None, ge=0, description="Decoupled weight decay (adamw, lamb, lion).")
    optimizer_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra optax optimizer arguments.")
    schedule: Schedule = Field("constant", description="Learning-rate schedule.")
    warmup_steps: NonNegativeInt = Field(0, description="Warmup steps of warmup_cosine.")
    final_lr_factor: float = Field(0.0, ge=0, le=1, description="Final lr / lr of the cosine schedules.")
    grad_clip: PositiveFloat | None = Field(None, description="Clip gradients to this global norm.")
    group_optimizers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Optimizer settings of the model's parameter groups: group -> fields."
    )
    seed: int = Field(0, description="Seed of initialization, sampling, shuffling and binarization.")
    binarize: Literal["auto", "none", "dynamic", "fixed"] = Field("auto", description="Binarization of the pixels.")
    binarize_seed: int = Field(0, description="Seed of the fixed (test) binarization.")
    steps_per_dispatch: PositiveInt | None = Field(None, description="Steps per jitted call (lax.scan); None: auto.")
    log_every: PositiveInt = Field(50, description="Fetch metrics every N steps.")
    keep_checkpoints: PositiveInt = Field(3, description="Keep the last N checkpoints (and the best).")
    data_parallel: bool = Field(True, description="Shard batches over all local devices.")
    data_placement: DataPlacement = Field(
        "auto", description="Training data on the devices ('device'), streamed from the host ('stream') or 'auto'."
    )
    device_data_budget_mb: PositiveFloat | None = Field(
        None, description="MiB of data 'auto' may put on each device (None: half the free device memory)."
    )
    loggers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Loggers besides jsonl: name -> keyword arguments."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_dataset(cls, data: Any) -> Any:
        if isinstance(data, dict) and "dataset" not in data:
            from artifex_core.training._recipes import default_recipe

            dataset = default_recipe()[1].get("dataset")
            if dataset is None:
                raise ValueError("dataset: required (no recipe registered as 'default' names one)")
            data = {**data, "dataset": dataset}
        return data

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.schedule == "warmup_cosine" and self.warmup_steps == 0:
            raise ValueError("warmup_steps: must be positive with schedule='warmup_cosine'")
        return self

    def resolved_binarize(self, model_config: ModelConfig | None) -> Literal["none", "dynamic", "fixed"]:
        """``binarize`` with ``auto`` resolved for ``model_config``'s model: dynamic when it declares a
        likelihood for binary data (:func:`artifex_core.binary_likelihood`), otherwise none (also
        without a model config)."""
        if self.binarize != "auto":
            return self.binarize
        return "dynamic" if model_config is not None and binary_likelihood(model_config) else "none"
