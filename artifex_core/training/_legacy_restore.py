"""Restoring a checkpoint written before a model's code moved some of its arrays.

The restore methods of :class:`~artifex_core.training.Checkpointer` take ``legacy_paths``, the model's
old -> current path prefixes (:func:`~artifex_core.training.legacy_state_paths` collects what its modules
declare). They apply only when the stored arrays do not fit the template as they are but do after renaming
(:func:`migration`); :func:`restore_renamed` then reads the checkpoint as stored and places its arrays under
the current names. The files are verified as stored; only the names change on the way in.

Example:
    >>> import jax.numpy as jnp
    >>> stored = {("old", "w"): [[2], "float32"]}
    >>> migration(stored, {"new": {"w": jnp.ones(2)}}, {("old",): ("new",)})
    {('old', 'w'): ('new', 'w')}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import orbax.checkpoint as ocp

from artifex_core.training._manifest import CheckpointError, short_error
from artifex_core.training._savable import from_savable, named_signature, to_savable
from artifex_core.training._sharding import put_on_mesh
from artifex_core.training._state_paths import StatePath, keystr_names, path_names, rename_paths

__all__ = ["manifest_renames", "migration", "restore_renamed"]


def _state_roots(template: Any) -> list[StatePath]:
    """Where model-state subtrees (``nnx.State``: params, the rest, optimizer moments) start in ``template``."""
    from flax import nnx

    flat = jax.tree_util.tree_flatten_with_path(template, is_leaf=lambda x: isinstance(x, nnx.State))[0]
    roots = [path_names(p) for p, x in flat if isinstance(x, nnx.State)]
    return roots or [()]


def migration(
    stored: dict[StatePath, list[Any]], template: Any, legacy_paths: Mapping[StatePath, StatePath]
) -> dict[StatePath, StatePath] | None:
    """Stored name -> template name when ``stored`` (a signature) fits ``template`` after the renames, else None."""
    renamed = rename_paths(stored, legacy_paths, _state_roots(template))
    if len(set(renamed.values())) != len(renamed) or all(k == v for k, v in renamed.items()):
        return None
    moved = {renamed[k]: v for k, v in stored.items()}
    return renamed if moved == named_signature(template) else None


def manifest_renames(
    arrays: Any, template: Any, legacy_paths: Mapping[StatePath, StatePath] | None
) -> dict[StatePath, StatePath] | None:
    """The renames that make a manifest's ``arrays`` (``{keystr: [shape, dtype]}``) fit ``template``, or None."""
    if not legacy_paths or not isinstance(arrays, dict):
        return None
    names = {k: keystr_names(k) for k in arrays}
    stored = {n: arrays[k] for k, n in names.items() if n is not None}
    return migration(stored, template, legacy_paths) if len(stored) == len(arrays) else None


def restore_renamed(
    mgr: ocp.CheckpointManager,
    epoch: int,
    where: str,
    template: Any,
    renames: Mapping[StatePath, StatePath] | None,
    legacy_paths: Mapping[StatePath, StatePath] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Read checkpoint ``epoch`` of ``mgr`` as stored, rename its arrays (``renames``, or derived from
    ``legacy_paths``) and place them like ``template``'s.

    Args:
        mgr: The checkpoints' orbax manager.
        epoch: The checkpoint number.
        where: How errors name the checkpoint.
        template: The state to restore into.
        renames: Stored name -> current name (from the manifest), or None to derive them from what is stored.
        legacy_paths: Old -> current path prefixes (used when ``renames`` is None).

    Returns:
        ``(state, meta)``.

    Raises:
        CheckpointError: The checkpoint is unreadable, or does not fit ``template`` even after renaming.
    """
    try:
        out = mgr.restore(epoch, args=ocp.args.Composite(state=ocp.args.StandardRestore(), meta=ocp.args.JsonRestore()))
    except Exception as exc:  # noqa: BLE001 - any library failure here means an unreadable checkpoint
        raise CheckpointError(f"{where} is damaged: {short_error(exc)}") from None
    stored = {path_names(p): x for p, x in jax.tree_util.tree_flatten_with_path(out["state"])[0]}
    if renames is None:
        signature = {k: [list(x.shape), str(x.dtype)] for k, x in stored.items()}
        renames = migration(signature, template, legacy_paths or {})
        if renames is None:
            raise CheckpointError(f"{where} does not fit this model, even with its legacy state paths")
    arrays = {renames.get(k, k): x for k, x in stored.items()}
    savable = to_savable(template)
    flat, treedef = jax.tree_util.tree_flatten_with_path(savable)
    leaves = []
    for path, like in flat:
        name = path_names(path)
        value = arrays.get(name)
        if value is None or tuple(value.shape) != tuple(like.shape) or value.dtype != like.dtype:
            raise CheckpointError(f"{where} does not fit this model: array {jax.tree_util.keystr(path)} differs")
        leaves.append(put_on_mesh(value, like.sharding) if isinstance(like, jax.Array) else value)
    state = jax.tree_util.tree_unflatten(treedef, leaves)
    return from_savable(state, template), dict(out["meta"])
