"""Late shape inference, opt-in: only for the spec's ``input_dim=None``.

Every module takes its input shape at construction, as flax's ``nnx.Linear(in, out, *, rngs)`` does, and the
factories always pass it. The spec page also builds encoders without one (``MLPEncoder(hidden_dims, latent_dim,
rngs=rngs)``); for that case alone a module calls :func:`defer_build` in ``__init__`` instead of its
``_build(input_dim, rngs)``, and :func:`build_at_first_call` at the top of ``__call__`` while its ``input_dim``
is None. The key is drawn at construction, so the parameters are deterministic given ``rngs`` and independent
of when the first call happens. Call such a module once eagerly (or under ``nnx.jit``) before creating an
optimizer for it: its parameters do not exist until then.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> class Lin(nnx.Module):
    ...     def __init__(self, input_dim=None, *, rngs):
    ...         self.input_dim = None
    ...         if input_dim is None:
    ...             self._lazy_key = defer_build(rngs)
    ...         else:
    ...             self._lazy_key = None
    ...             self._build(tuple(input_dim), rngs)
    ...     def _build(self, input_dim, rngs):
    ...         self.input_dim = input_dim
    ...         self.linear = nnx.Linear(input_dim[-1], 2, rngs=rngs)
    ...     def __call__(self, x):
    ...         if self.input_dim is None:
    ...             build_at_first_call(self, x.shape[1:])
    ...         return self.linear(x)
    >>> m = Lin(rngs=nnx.Rngs(0))
    >>> m.input_dim, m(jnp.ones((1, 3))).shape, m.input_dim
    (None, (1, 2), (3,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flax import nnx

__all__ = ["BuiltFromShape", "LazyInitKey", "build_at_first_call", "defer_build"]


class LazyInitKey(nnx.Variable):
    """The PRNG key a module keeps until its first call builds it (not a parameter)."""


class BuiltFromShape(Protocol):
    """A module whose input-dependent layers ``_build(input_dim, rngs)`` creates (and sets ``input_dim``)."""

    input_dim: tuple[int, ...] | None
    _lazy_key: LazyInitKey | None

    def _build(self, input_dim: tuple[int, ...], rngs: nnx.Rngs) -> None: ...


def defer_build(rngs: nnx.Rngs) -> LazyInitKey:
    """The key to keep in ``_lazy_key`` when a module is built without its input shape.

    Example:
        >>> from flax import nnx
        >>> type(defer_build(nnx.Rngs(0))).__name__
        'LazyInitKey'
    """
    return LazyInitKey(rngs.params())


def build_at_first_call(module: BuiltFromShape, input_dim: Sequence[int]) -> None:
    """Build ``module`` for per-example shape ``input_dim`` from the key :func:`defer_build` drew, then drop it.

    Raises:
        RuntimeError: If the module kept no key (it was built already, or never deferred).
    """
    key = module._lazy_key
    if key is None:
        raise RuntimeError(f"{type(module).__name__}: already built (input_dim {module.input_dim})")
    module._lazy_key = None
    module._build(tuple(int(d) for d in input_dim), nnx.Rngs(params=key[...]))
