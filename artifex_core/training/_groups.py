"""Parameter groups: parts of a model that minimise their own loss with their own optimizer.

A model may declare ``optimizer_groups``, a class attribute mapping a group name to a :class:`ParamGroup`:
which parameters (``filter``), which ``loss_fn`` key they minimise (``loss``) and their optimizer settings
(``optimizer``: :class:`~artifex_core.training.TrainConfig` fields such as ``lr``, ``optimizer``,
``optimizer_kwargs``). Every parameter no group claims belongs to the ``main`` group, which minimises
``"loss"`` with the train config's optimizer. The train step takes the gradient of each group's loss with
respect to that group's parameters only, and one ``optax.multi_transform`` applies each group's optimizer, so
the optimizer state stays one pytree (checkpoints and resume are unchanged in form).

A run overrides a group's settings with ``TrainConfig.group_optimizers`` (``--set
train.group_optimizers='{"discriminator": {"lr": 1e-4}}'``). A model that declares no group trains exactly as
before: one loss, one optimizer.

This is what FactorVAE's discriminator needs (Kim & Mnih 2018): the VAE minimises its loss, the
discriminator its own classification loss, each with its own Adam. Importing this module imports no JAX.

Example:
    >>> class WithCritic:
    ...     optimizer_groups = {"critic": ParamGroup("critic", loss="critic_loss", optimizer={"lr": 1e-4})}
    >>> groups = optimizer_groups_of(WithCritic())
    >>> list(groups), groups["critic"].loss
    (['critic'], 'critic_loss')
    >>> label_of(("critic", "kernel", "value"), groups), label_of(("encoder", "kernel", "value"), groups)
    ('critic', 'main')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAIN_GROUP", "ParamGroup", "group_train_config", "label_of", "optimizer_groups_of"]

MAIN_GROUP = "main"
"""The group of every parameter no declared group claims; it minimises ``"loss"`` with the run's optimizer."""

GROUP_OPTIMIZER_FIELDS: tuple[str, ...] = (
    "optimizer", "lr", "weight_decay", "optimizer_kwargs", "schedule", "warmup_steps", "final_lr_factor", "grad_clip",
)
"""The :class:`~artifex_core.training.TrainConfig` fields a group may set for its own optimizer."""

PathFilter = str | Sequence[str] | Callable[[tuple[str, ...]], bool]
"""Which parameters a group holds: a top-level attribute name (``"discriminator"``), several, or a predicate
on a parameter's path names (``("discriminator", "layers", "0", "kernel", "value")``)."""


@dataclass(frozen=True)
class ParamGroup:
    """A group of parameters minimising their own loss with their own optimizer.

    Attributes:
        filter: The group's parameters: a top-level attribute name of the model, a sequence of them, or a
            predicate on the parameter's path names.
        loss: The ``loss_fn`` key (a scalar) this group minimises.
        optimizer: Its optimizer settings, fields of :class:`~artifex_core.training.TrainConfig` (see
            :data:`GROUP_OPTIMIZER_FIELDS`); those not given are the run's.
    """

    filter: PathFilter
    loss: str
    optimizer: Mapping[str, Any] = field(default_factory=dict)

    def holds(self, path: tuple[str, ...]) -> bool:
        """Whether the parameter at ``path`` (its names) belongs to this group.

        Example:
            >>> ParamGroup(("disc", "head"), loss="d").holds(("head", "bias", "value"))
            True
        """
        if callable(self.filter):
            return bool(self.filter(path))
        names = (self.filter,) if isinstance(self.filter, str) else tuple(self.filter)
        return bool(path) and path[0] in names


def optimizer_groups_of(model: Any) -> dict[str, ParamGroup]:
    """The model's declared ``optimizer_groups`` (``{}`` when none), checked.

    Raises:
        TypeError: A group that is not a :class:`ParamGroup`.
        ValueError: A group named ``main``, or optimizer settings that are not train config fields.
    """
    declared = getattr(model, "optimizer_groups", None) or {}
    groups: dict[str, ParamGroup] = {}
    for name, group in dict(declared).items():
        if not isinstance(group, ParamGroup):
            raise TypeError(f"optimizer group {name!r} of {type(model).__name__} must be a ParamGroup, got {type(group).__name__}")
        if name == MAIN_GROUP:
            raise ValueError(f"optimizer group name {MAIN_GROUP!r} is reserved for the parameters no group claims")
        unknown = sorted(set(group.optimizer) - set(GROUP_OPTIMIZER_FIELDS))
        if unknown:
            raise ValueError(
                f"optimizer group {name!r}: {unknown[0]!r} is not an optimizer setting "
                f"(allowed: {', '.join(GROUP_OPTIMIZER_FIELDS)})"
            )
        groups[str(name)] = group
    return groups


def label_of(path: tuple[str, ...], groups: Mapping[str, ParamGroup]) -> str:
    """The group of the parameter at ``path``: the first declared group holding it, else ``main``."""
    for name, group in groups.items():
        if group.holds(path):
            return name
    return MAIN_GROUP


def group_train_config(cfg: Any, name: str, group: ParamGroup) -> Any:
    """The train config of group ``name``: the run's, with the group's declared settings and then the run's
    ``group_optimizers[name]`` overrides applied (validated as a train config).

    Raises:
        TrainConfigError: Overrides that are not optimizer settings, or invalid values (naming the group).
    """
    from pydantic import ValidationError

    from artifex_core._config import format_validation_error
    from artifex_core.training._config import TrainConfig, TrainConfigError

    override = dict(getattr(cfg, "group_optimizers", {}).get(name, {}))
    unknown = sorted(set(override) - set(GROUP_OPTIMIZER_FIELDS))
    if unknown:
        raise TrainConfigError(
            f"group_optimizers.{name}: {unknown[0]!r} is not an optimizer setting "
            f"(allowed: {', '.join(GROUP_OPTIMIZER_FIELDS)})"
        )
    merged = {**cfg.model_dump(), **dict(group.optimizer), **override, "group_optimizers": {}}
    try:
        return TrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise TrainConfigError(f"group_optimizers.{name}: " + "; ".join(format_validation_error(exc))) from None
