"""Older state layouts of a model: renamed or moved arrays of checkpoints written by earlier code.

A run folder is the user's data: when a model's code moves an array (``codebook`` becomes
``latent/codebook``), its old checkpoints must keep loading. A module class declares how its older state
paths map to the current ones, and :class:`~artifex_core.training.Checkpointer` applies that
map when (and only when) a stored checkpoint does not fit the model as it is but fits after renaming:

```python
class MyModel(nnx.Module):
    legacy_state_paths: ClassVar[Mapping[tuple[str, ...], tuple[str, ...]]] = {
        ("codebook",): ("latent", "codebook"),  # old path prefix -> current path prefix
    }
```

* Paths are relative to the module that declares them, by attribute names as in ``nnx.state(module)``
  (list items by their index, written as a string: ``("layers", "0")``). A key is a *prefix*: it renames
  everything under it (``("encoder", "layers")`` moves a whole stack).
* Any module of the model may declare its own (an encoder class declares its renames once, and every model
  that uses it inherits them, under the path it has there); :func:`legacy_state_paths` collects them all.
  An instance property of that name works too (renames that depend on the configuration).
* The renames apply inside every model-state subtree of a checkpoint: the params, the rest of the state and
  the optimizer's params-shaped moments. Each stored path is renamed once, by its longest matching prefix;
  map every older layout straight to the current one.
* The checkpoint's own files are never rewritten: its manifest still verifies the files as stored, and a
  resumed run writes its next checkpoints in the current layout.

Example:
    >>> rename_paths([("params", "codebook", "value"), ("params", "w")], {("codebook",): ("latent", "codebook")},
    ...              roots=[("params",)])[("params", "codebook", "value")]
    ('params', 'latent', 'codebook', 'value')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jax

__all__ = ["StatePath", "keystr_names", "legacy_state_paths", "path_names", "rename_paths"]

StatePath = tuple[str, ...]
"""A path into a state tree by key names: ``("params", "latent", "codebook", "value")``."""

_TOKEN = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\[(-?\d+)\]|\.([A-Za-z_]\w*)")


def path_names(path: Sequence[Any]) -> StatePath:
    """A JAX key path as names: dict keys, attribute names and sequence indices, each as a string.

    Orbax names the arrays of a checkpoint the same way.

    Example:
        >>> from jax.tree_util import DictKey, GetAttrKey, SequenceKey
        >>> path_names((DictKey("opt_state"), SequenceKey(0), GetAttrKey("mu"), DictKey(3)))
        ('opt_state', '0', 'mu', '3')
    """
    names = []
    for key in path:
        if isinstance(key, jax.tree_util.DictKey):
            names.append(str(key.key))
        elif isinstance(key, jax.tree_util.GetAttrKey):
            names.append(key.name)
        elif isinstance(key, jax.tree_util.SequenceKey):
            names.append(str(key.idx))
        else:  # FlattenedIndexKey and custom keys
            names.append(str(getattr(key, "key", key)))
    return tuple(names)


def keystr_names(text: str) -> StatePath | None:
    """Parse a :func:`jax.tree_util.keystr` (as the checkpoint manifest lists arrays) into names; None if it is not one.

    Example:
        >>> keystr_names("['opt_state'][0].mu['codebook'].value")
        ('opt_state', '0', 'mu', 'codebook', 'value')
    """
    names, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            return None
        single, double, index, attr = match.groups()
        quoted = single if single is not None else double
        names.append(quoted.encode().decode("unicode_escape") if quoted is not None else index or attr)
        pos = match.end()
    return tuple(names)


def legacy_state_paths(model: Any) -> dict[StatePath, StatePath]:
    """The renames that ``model`` and each of its submodules declare, as paths from the model's root.

    Reads ``legacy_state_paths`` (a mapping of old to current path prefixes, relative to the module that
    declares it) on every module of the graph; an object that is not a Flax module contributes only its own.

    Raises:
        TypeError: A declaration that is not a mapping of tuples of names.

    Example:
        >>> class Old:
        ...     legacy_state_paths = {("w",): ("layer", "w")}
        >>> legacy_state_paths(Old())
        {('w',): ('layer', 'w')}
    """
    from flax import nnx  # only here: reading state paths elsewhere needs no Flax

    modules: Iterable[tuple[Sequence[Any], Any]]
    modules = nnx.iter_modules(model) if isinstance(model, nnx.Module) else [((), model)]
    out: dict[StatePath, StatePath] = {}
    for path, module in modules:
        declared = getattr(module, "legacy_state_paths", None)
        if not declared:
            continue
        if not isinstance(declared, Mapping):
            raise TypeError(
                f"{type(module).__name__}.legacy_state_paths must map old path tuples to new ones, "
                f"got {type(declared).__name__}"
            )
        prefix = tuple(str(p) for p in path)
        for old, new in declared.items():
            if not (isinstance(old, tuple) and isinstance(new, tuple) and old and new):
                raise TypeError(
                    f"{type(module).__name__}.legacy_state_paths: {old!r} -> {new!r} must be non-empty tuples of names"
                )
            out[prefix + tuple(map(str, old))] = prefix + tuple(map(str, new))
    return out


def rename_paths(
    paths: Iterable[StatePath], renames: Mapping[StatePath, StatePath], roots: Iterable[StatePath] = ((),)
) -> dict[StatePath, StatePath]:
    """Each of ``paths`` -> its current name: under the longest of ``roots`` it starts with, the longest
    prefix of ``renames`` is replaced; paths that no rename matches keep their name.

    Args:
        paths: Stored paths (names).
        renames: Old -> new prefixes, relative to a root (see :func:`legacy_state_paths`).
        roots: Where model-state subtrees start in the stored tree (``()``: the tree is one).

    Example:
        >>> rename_paths([("rest", "counts")], {("counts",): ("latent", "counts")}, roots=[("params",), ("rest",)])
        {('rest', 'counts'): ('rest', 'latent', 'counts')}
    """
    ordered_roots = sorted(set(roots), key=len, reverse=True)
    ordered_renames = sorted(renames.items(), key=lambda item: len(item[0]), reverse=True)
    out = {}
    for path in paths:
        out[path] = path
        root = next((r for r in ordered_roots if path[: len(r)] == r), None)
        if root is None:
            continue
        rel = path[len(root) :]
        for old, new in ordered_renames:
            if rel[: len(old)] == old:
                out[path] = root + new + rel[len(old) :]
                break
    return out
