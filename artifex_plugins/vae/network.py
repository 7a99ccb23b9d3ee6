"""What every built-in encoder and decoder shares: its checked arguments and its ``latent_shape``.

Example:
    >>> from flax import nnx
    >>> class Tiny(Network):
    ...     pass
    >>> t = Tiny([8], 2, "tanh", precision=None)
    >>> t.hidden_dims, t.latent_shape
    ([8], (2,))
"""

from __future__ import annotations

import jax
from flax import nnx

from artifex_plugins.vae.activations import get_activation
from artifex_plugins.vae.checks import check_latent_dim, hidden_dims_list

__all__ = ["Network"]


class Network(nnx.Module):
    """Base of the encoders and decoders: ``hidden_dims``, ``latent_dim``, ``activation`` and ``precision``,
    checked, and ``latent_shape``, the per-example shape of the latent code (``(latent_dim,)`` until a
    spatial subclass sets ``(h, w, latent_dim)``; None while a lazy spatial encoder awaits its first call).

    Raises:
        ValueError: For invalid widths (fewer than ``min_hidden``), latent size or activation name.
    """

    latent_shape: tuple[int, ...] | None

    def __init__(
        self,
        hidden_dims: list,
        latent_dim: int,
        activation: str,
        *,
        precision: jax.lax.Precision | None,
        min_hidden: int = 0,
    ) -> None:
        """Check and keep the arguments every encoder and decoder takes."""
        name = type(self).__name__
        self.hidden_dims = hidden_dims_list(hidden_dims, name, allow_empty=min_hidden == 0)
        self.latent_dim = check_latent_dim(latent_dim, name)
        get_activation(activation)
        self.activation = activation
        self.precision = precision
        self.latent_shape = (self.latent_dim,)
