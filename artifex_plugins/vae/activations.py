"""Activation functions by name, as the encoders' and decoders' ``activation`` argument takes them.

Example:
    >>> import jax.numpy as jnp
    >>> float(get_activation("relu")(jnp.array(-1.0)))
    0.0
    >>> sorted(ACTIVATIONS)[:3]
    ['elu', 'gelu', 'leaky_relu']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from types import MappingProxyType

import jax
import jax.numpy as jnp

__all__ = ["ACTIVATIONS", "ACTIVATION_NAMES", "Activation", "get_activation"]

Activation = Callable[[jax.Array], jax.Array]

ACTIVATION_NAMES: tuple[str, ...] = ("relu", "gelu", "silu", "swish", "tanh", "leaky_relu", "elu", "softplus", "sigmoid")
"""Every valid activation name, the one list of them. The built-in plugin registers the encoders and decoders
with ``meta={"activations": "artifex_plugins.vae.activations:ACTIVATION_NAMES"}``; ``ModelConfig`` reads this
literal from source, without importing JAX."""

_NOT_IN_JAX_NN: dict[str, Activation] = {"swish": jax.nn.silu, "tanh": jnp.tanh}

ACTIVATIONS: MappingProxyType[str, Activation] = MappingProxyType(
    {name: _NOT_IN_JAX_NN.get(name) or getattr(jax.nn, name) for name in ACTIVATION_NAMES}
)
"""Every valid activation name and its function (``swish`` is an alias of ``silu``; the others are
``jax.nn``'s function of that name, ``tanh`` is ``jnp.tanh``)."""


def get_activation(name: str | Activation) -> Activation:
    """Return the activation function called ``name``.

    Names are case-insensitive and ``-`` reads as ``_`` (``"Leaky-ReLU"`` is ``leaky_relu``). A callable is
    returned unchanged, so a custom function can be passed wherever a name is accepted.

    Args:
        name: One of :data:`ACTIVATIONS` (relu, gelu, silu/swish, tanh, leaky_relu, elu, softplus,
            sigmoid), or a callable.

    Returns:
        The activation function.

    Raises:
        ValueError: If the name is unknown; the message lists the valid names and a close match if any.

    Example:
        >>> import jax.numpy as jnp
        >>> get_activation("swish") is get_activation("silu")
        True
        >>> try:
        ...     get_activation("rleu")
        ... except ValueError as err:
        ...     print(str(err)[:61])
        unknown activation 'rleu' (did you mean 'relu'?); valid names
    """
    if callable(name):
        return name
    if not isinstance(name, str):
        raise ValueError(f"activation must be a name or a callable, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key in ACTIVATIONS:
        return ACTIVATIONS[key]
    close = difflib.get_close_matches(key, list(ACTIVATIONS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown activation {name!r}{hint}; valid names: {', '.join(sorted(ACTIVATIONS))}")
