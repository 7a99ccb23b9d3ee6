"""Split configs into model and train parts and route ``key=value`` overrides. No JAX.

A run's ``config.json`` is ``{"model": {...}, "train": {...}}``; a hand-written config is a flat model config,
optionally with a ``train:`` mapping, and train fields (``epochs``, ``lr``, ...) may also sit at the top.
Overrides go to the train part when their first key is a :class:`TrainConfig` field or starts with ``train.``,
otherwise to the model part (``model.KEY`` is accepted too).

Example:
    >>> model, train = split_config({"model": "vae", "latent_dim": 8, "epochs": 3, "train": {"lr": 0.01}})
    >>> model, train
    ({'model': 'vae', 'latent_dim': 8}, {'lr': 0.01, 'epochs': 3})
    >>> apply_sets(model, train, ["lr=0.1", "parameters.beta_default=4", "train.seed=3"])
    ({'model': 'vae', 'latent_dim': 8, 'parameters': {'beta_default': 4}}, {'lr': 0.1, 'epochs': 3, 'seed': 3})
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from artifex_core._config_files import apply_overrides
from artifex_core._config_values import ConfigError
from artifex_core.training._config import TrainConfig

__all__ = ["apply_sets", "split_config"]


def split_config(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a config mapping into ``(model, train)`` parts.

    Raises:
        ConfigError: A ``train`` entry that is not a mapping.
    """
    data = dict(data)
    if isinstance(data.get("model"), dict):
        train = data.get("train") or {}
        if not isinstance(train, dict):
            raise ConfigError("config: 'train' must be a mapping")
        return dict(data["model"]), dict(train)
    train = data.pop("train", None) or {}
    if not isinstance(train, dict):
        raise ConfigError("config: 'train' must be a mapping")
    train = dict(train)
    for key in [k for k in data if k in TrainConfig.model_fields]:
        train[key] = data.pop(key)
    return data, train


def apply_sets(
    model: dict[str, Any], train: dict[str, Any], sets: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply ``key=value`` overrides (values parsed as YAML) to the part each key belongs to.

    Each value is checked as :func:`~artifex_core.apply_overrides` checks it (plain JSON values,
    finite numbers, integers in range, bounded nesting), with the key as typed: errors name ``train.seed``,
    not the ``seed`` it is routed to.

    Raises:
        ConfigError: An override without ``=`` or with a value that is not a plain JSON value.
    """
    to_model, to_train = [], []
    for item in sets:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r} must look like key=value")
        apply_overrides({}, [item])  # the value's checks, naming the key as typed
        if key.startswith("train."):
            to_train.append(f"{key.removeprefix('train.')}={value}")
        elif key.split(".")[0] in TrainConfig.model_fields:
            to_train.append(f"{key}={value}")
        else:
            to_model.append(f"{key.removeprefix('model.') if key.startswith('model.') else key}={value}")
    return apply_overrides(model, to_model), apply_overrides(train, to_train)
