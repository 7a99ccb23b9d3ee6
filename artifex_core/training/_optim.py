"""Optimizers by name and learning-rate schedules, from a :class:`TrainConfig`.

Example:
    >>> from artifex_core.training._config import TrainConfig
    >>> cfg = TrainConfig(schedule="warmup_cosine", warmup_steps=10, lr=1e-3)
    >>> sched = make_schedule(cfg, total_steps=100)
    >>> float(sched(0)), round(float(sched(10)), 6), float(sched(100))
    (0.0, 0.001, 0.0)
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import optax

from artifex_core.training._config import TrainConfig, TrainConfigError
from artifex_core.training._groups import MAIN_GROUP, ParamGroup, group_train_config, label_of

__all__ = ["make_optimizer", "make_schedule", "param_labels"]


def make_schedule(cfg: TrainConfig, total_steps: int) -> optax.Schedule:
    """The learning rate as a function of the optimizer step.

    ``constant``: ``lr``. ``cosine``: cosine decay from ``lr`` to ``lr * final_lr_factor`` over ``total_steps``.
    ``warmup_cosine``: linear warmup from 0 over ``warmup_steps``, then that cosine decay.
    """
    total = max(1, int(total_steps))
    end = cfg.lr * cfg.final_lr_factor
    if cfg.schedule == "constant":
        return optax.constant_schedule(cfg.lr)
    if cfg.schedule == "cosine":
        return optax.cosine_decay_schedule(cfg.lr, total, alpha=cfg.final_lr_factor)
    warmup = min(cfg.warmup_steps, total)
    return optax.warmup_cosine_decay_schedule(0.0, cfg.lr, warmup, max(total, warmup + 1), end_value=end)


def make_optimizer(
    cfg: TrainConfig, total_steps: int, groups: Mapping[str, ParamGroup] | None = None
) -> optax.GradientTransformation:
    """The optax optimizer ``cfg.optimizer`` with the schedule, weight decay, extra kwargs and clipping.

    With parameter ``groups`` (a model's ``optimizer_groups``), one ``optax.multi_transform``: the ``main``
    group (every parameter no group claims) gets ``cfg``'s optimizer, each group its own (see
    :func:`~artifex_core.training._groups.group_train_config`), and the state is one pytree.

    Raises:
        TrainConfigError: ``weight_decay`` for an optimizer without it, an unknown optimizer argument, or
            ``group_optimizers`` naming a group the model does not declare.
    """
    given = sorted(set(cfg.group_optimizers) - set(groups or {}))
    if given:
        declared = ", ".join(groups or {}) or "none"
        raise TrainConfigError(
            f"group_optimizers: the model has no parameter group {given[0]!r} (its groups: {declared})"
        )
    if groups:
        transforms = {MAIN_GROUP: _single_optimizer(cfg, total_steps)}
        for name, group in groups.items():
            transforms[name] = _single_optimizer(group_train_config(cfg, name, group), total_steps)
        return optax.multi_transform(transforms, param_labels(groups))
    return _single_optimizer(cfg, total_steps)


def param_labels(groups: Mapping[str, ParamGroup]) -> Any:
    """``params -> labels``: the tree of group names ``optax.multi_transform`` partitions ``params`` by."""
    import jax

    from artifex_core.training._state_paths import path_names

    def labels(params: Any) -> Any:
        return jax.tree_util.tree_map_with_path(lambda path, _: label_of(path_names(path), groups), params)

    return labels


def _single_optimizer(cfg: TrainConfig, total_steps: int) -> optax.GradientTransformation:
    factory = getattr(optax, cfg.optimizer)
    params = inspect.signature(factory).parameters
    kwargs: dict[str, Any] = dict(cfg.optimizer_kwargs)
    if cfg.weight_decay is not None:
        if "weight_decay" not in params:
            raise TrainConfigError(
                f"weight_decay: optimizer {cfg.optimizer!r} has no weight decay (use adamw, lamb or lion)"
            )
        kwargs["weight_decay"] = cfg.weight_decay
    unknown = sorted(set(kwargs) - set(params) - {"learning_rate"})
    if unknown:
        allowed = ", ".join(p for p in params if p != "learning_rate")
        raise TrainConfigError(
            f"optimizer_kwargs: {cfg.optimizer!r} does not take {', '.join(unknown)} (allowed: {allowed})"
        )
    tx = factory(learning_rate=make_schedule(cfg, total_steps), **kwargs)
    if cfg.grad_clip is not None:
        tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), tx)
    return tx
