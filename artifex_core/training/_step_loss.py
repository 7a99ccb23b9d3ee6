"""What a training step takes from a model's ``loss_fn``: the batch it is given, the scalar metrics kept,
and each parameter group's gradient of its own loss.

These are the pure pieces of :mod:`~artifex_core.training._steps` (which jits them into steps): no state,
no sharding, traceable inside ``jax.jit`` and ``lax.scan``.

Example:
    >>> import jax.numpy as jnp
    >>> sorted(scalar_metrics({"loss": jnp.float32(1.0), "total_loss": 1.0, "z": jnp.ones(3)}, ("total_loss",)))
    ['loss']
    >>> make_batch(jnp.ones(2), jnp.zeros(2), conditional=True).keys()
    dict_keys(['x', 'y'])
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import jax
import jax.numpy as jnp
import optax

from artifex_core.training._groups import MAIN_GROUP, ParamGroup, label_of
from artifex_core.training._state_paths import path_names

__all__ = ["group_gradients", "make_batch", "scalar_metrics"]


def scalar_metrics(losses: dict[str, Any], aliases: Collection[str] = ()) -> dict[str, jax.Array]:
    """The scalar entries of a ``loss_fn`` result as ``float32``, without the keys the model declares as
    aliases (its ``loss_aliases``, e.g. ``total_loss`` for ``loss``).

    Raises:
        KeyError: If there is no ``"loss"``.
    """
    if "loss" not in losses:
        raise KeyError(f"loss_fn must return a dict with 'loss'; got keys {sorted(losses)}")
    out = {}
    for key, value in losses.items():
        if key in aliases:
            continue
        arr = jnp.asarray(value) if not isinstance(value, jax.Array) else value
        if arr.ndim == 0 and jnp.issubdtype(arr.dtype, jnp.number):
            out[key] = arr.astype(jnp.float32)
    return out


def make_batch(x: jax.Array, y: jax.Array | None, conditional: bool) -> Any:
    """The ``batch`` a model's ``loss_fn`` takes: ``x``, or ``{"x": x, "y": y}`` for a conditional model.

    Raises:
        ValueError: A conditional model without labels.
    """
    if conditional:
        if y is None:
            raise ValueError("a conditional model needs a labelled dataset")
        return {"x": x, "y": y}
    return x


def group_gradients(
    loss_of: Callable[[Any], tuple[dict[str, jax.Array], Any]], params: Any, groups: tuple[tuple[str, ParamGroup], ...]
) -> tuple[Any, dict[str, jax.Array], Any]:
    """Each group's parameters' gradient of that group's loss only (``main``: of ``"loss"``), in one tree.

    ``loss_of(params) -> (losses, aux)`` runs the model once (one forward pass, one backward pass per group,
    by ``jax.vjp``). Returns ``(grads, group_grad_norms, aux)``.

    Raises:
        KeyError: A group's loss that ``losses`` does not hold (naming the group and the keys there are).

    Example:
        >>> import jax.numpy as jnp
        >>> def loss_of(p):
        ...     return {"loss": (p["a"] * p["b"]).sum(), "b_loss": (p["b"] ** 2).sum()}, None
        >>> grads, norms, _ = group_gradients(loss_of, {"a": jnp.ones(1), "b": 3 * jnp.ones(1)},
        ...                                   (("b_group", ParamGroup("b", loss="b_loss")),))
        >>> float(grads["a"][0]), float(grads["b"][0])  # d(a*b)/da = b; d(b^2)/db = 2b
        (3.0, 6.0)
    """
    named = dict(groups)
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    labels = [label_of(path_names(path), named) for path, _ in flat]
    losses, vjp_fn, aux = jax.vjp(lambda p: loss_of(p), params, has_aux=True)
    wanted = [(MAIN_GROUP, "loss"), *((name, group.loss) for name, group in groups)]
    for name, key in wanted:
        if key not in losses:
            raise KeyError(
                f"parameter group {name!r} minimises {key!r}, which loss_fn does not return (keys: {sorted(losses)})"
            )
    chosen: list[Any] = [None] * len(flat)
    norms: dict[str, jax.Array] = {}
    for name, key in wanted:
        if name not in labels:
            continue
        cotangent = {k: (jnp.ones_like(v) if k == key else jnp.zeros_like(v)) for k, v in losses.items()}
        (grads,) = vjp_fn(cotangent)
        leaves = jax.tree.leaves(grads)
        mine = [leaf for leaf, label in zip(leaves, labels, strict=True) if label == name]
        for i, label in enumerate(labels):
            if label == name:
                chosen[i] = leaves[i]
        if name != MAIN_GROUP:
            norms[f"grad_norm_{name}"] = optax.tree.norm(mine).astype(jnp.float32)
    return jax.tree_util.tree_unflatten(treedef, chosen), norms, aux
