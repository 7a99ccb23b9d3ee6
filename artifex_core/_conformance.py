"""The base of the conformance checks of :mod:`artifex_core.testing`: their error, tiny configs, the checks' helpers.

Example:
    >>> tiny_config("vae").latent_dim
    4
"""

from __future__ import annotations

from typing import Any

from artifex_core._config import ModelConfig
from artifex_core._params import requires_condition

__all__ = ["ConformanceError", "tiny_config"]


class ConformanceError(AssertionError):
    """A registered component does not meet artifex's contract; the message says which part."""


def tiny_config(name: str, **overrides: Any) -> ModelConfig:
    """A tiny config of registered model ``name``: flat 12-dim data, latent 4, one hidden layer of 8."""
    base: dict[str, Any] = {"model": name, "input_dim": (12,), "latent_dim": 4, "hidden_dims": (8,)}
    base.update(overrides)
    if base.get("conditional") or requires_condition(name):
        base.setdefault("num_classes", 3)
        base.setdefault("embed_dim", 4)
    return ModelConfig(**base)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def _finite(tree: Any) -> bool:
    import jax
    import jax.numpy as jnp

    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))
