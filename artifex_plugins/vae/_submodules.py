"""How a model drives its parts: keys from ``nnx.Rngs``, calls with only the keywords a part accepts, precision.

Randomness convention of the family: a model derives its own ``nnx.Rngs`` from the ``rngs`` given at
construction and draws from it (with :func:`draw_key`) whenever a method is called with ``rngs=None``.

Example:
    >>> from flax import nnx
    >>> draw_key(nnx.Rngs(sample=0)).shape
    ()
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import jax
from flax import nnx

__all__ = ["accepts", "apply_precision", "call_module", "draw_key"]


def draw_key(rngs: nnx.Rngs) -> jax.Array:
    """Draw one key from ``rngs``: its "sample" stream, else "default", else "params".

    Raises:
        ValueError: If ``rngs`` has none of these streams.

    Example:
        >>> from flax import nnx
        >>> draw_key(nnx.Rngs(params=0)).dtype.name.startswith("key")
        True
        >>> draw_key(nnx.Rngs(dropout=0))
        Traceback (most recent call last):
        ...
        ValueError: rngs needs a 'sample' or 'default' stream, e.g. nnx.Rngs(0) or nnx.Rngs(sample=0)
    """
    for stream in ("sample", "default", "params"):
        if stream in rngs:
            return getattr(rngs, stream)()
    raise ValueError("rngs needs a 'sample' or 'default' stream, e.g. nnx.Rngs(0) or nnx.Rngs(sample=0)")


@functools.lru_cache(maxsize=None)
def accepts(cls: type, name: str) -> bool:
    """Whether instances of ``cls`` take the keyword ``name`` in ``__call__`` (or any, through ``**kwargs``).

    Cached per class: a model calls it on every forward pass.

    Example:
        >>> class Plain:
        ...     def __call__(self, x): return x
        >>> accepts(Plain, "rngs")
        False
    """
    try:
        params = inspect.signature(cls.__call__).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return True
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def call_module(module: Any, *args: Any, rngs: nnx.Rngs | None = None, **kwargs: Any) -> Any:
    """Call ``module``, passing ``rngs`` only when given and accepted by its ``__call__``.

    Example:
        >>> from flax import nnx
        >>> class Double:
        ...     def __call__(self, x): return 2 * x
        >>> call_module(Double(), 3, rngs=nnx.Rngs(0))
        6
    """
    cls: type = type(module)  # a class is hashable (the cache key); mypy reads type[Any] as not Hashable
    if rngs is not None and accepts(cls, "rngs"):
        kwargs["rngs"] = rngs
    return module(*args, **kwargs)


def apply_precision(module: nnx.Module, precision: Any) -> None:
    """Set ``precision`` on ``module`` and every sub-module that has a ``precision`` attribute.

    Example:
        >>> import jax
        >>> from flax import nnx
        >>> layer = nnx.Linear(2, 2, rngs=nnx.Rngs(0))
        >>> apply_precision(layer, jax.lax.Precision.HIGHEST)
        >>> layer.precision == jax.lax.Precision.HIGHEST
        True
    """
    for _, node in nnx.iter_graph(module):
        if isinstance(node, nnx.Module) and hasattr(node, "precision"):
            node.precision = precision
