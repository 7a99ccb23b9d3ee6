"""The training state as checkpoints store it: typed PRNG keys as raw key data, and array signatures.

Orbax stores plain arrays, so a typed PRNG key is written as its ``uint32`` key data (:func:`to_savable`) and
wrapped again on restore (:func:`from_savable`). A signature (:func:`signature`) is the ``[shape, dtype]``
of every array of a state, by path: what a checkpoint's manifest records and what a restore compares.

Example:
    >>> import jax
    >>> state = {"key": jax.random.key(0), "w": jax.numpy.ones(2)}
    >>> signature(state)
    {"['key']": [[2], 'uint32'], "['w']": [[2], 'float32']}
    >>> back = from_savable(to_savable(state), state)
    >>> jax.numpy.array_equal(jax.random.key_data(back["key"]), jax.random.key_data(state["key"])).item()
    True
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from artifex_core.training._state_paths import StatePath, path_names

__all__ = ["from_savable", "named_signature", "signature", "to_savable"]


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_savable(tree: Any) -> Any:
    """Replace typed PRNG keys by their ``uint32`` key data."""
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


def from_savable(tree: Any, template: Any) -> Any:
    """Re-wrap key data as typed keys wherever ``template`` (same structure) holds a key."""
    return jax.tree.map(
        lambda x, t: jax.random.wrap_key_data(x, impl=jax.random.key_impl(t)) if _is_key(t) else x, tree, template
    )


def signature(tree: Any) -> dict[str, list[Any]]:
    """``{path: [shape, dtype]}`` of every array of ``tree`` (keys as their raw data)."""
    flat = jax.tree_util.tree_flatten_with_path(to_savable(tree))[0]
    return {jax.tree_util.keystr(p): [list(x.shape), str(x.dtype)] for p, x in flat}


def named_signature(tree: Any) -> dict[StatePath, list[Any]]:
    """``{names: [shape, dtype]}`` of every array of ``tree`` (paths as :func:`path_names`)."""
    flat = jax.tree_util.tree_flatten_with_path(to_savable(tree))[0]
    return {path_names(p): [list(x.shape), str(x.dtype)] for p, x in flat}
