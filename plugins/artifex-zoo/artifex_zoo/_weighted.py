"""The importance-weighted base of the zoo: per-sample log-weights ``log p(x, z) - log q(z | x)`` of a VAE.

:class:`ImportanceWeightedVAE` adds to :class:`artifex_plugins.vae.VAE` the documented hook
:meth:`~ImportanceWeightedVAE.log_importance_weights` (``(x, num_samples) -> (num_samples, B)``) and the
prior's log-density :meth:`~ImportanceWeightedVAE.log_prior` (``N(0, I)`` here; VampPrior overrides it). The
objectives of IWAE, MIWAE and PIWAE are bounds over these weights, and the zoo's ``zoo_iwae`` metric
(:mod:`artifex_zoo._metric`) estimates the test NLL from them for any model that provides the hook.

Example:
    >>> from flax import nnx
    >>> from artifex_plugins.vae.encoders import MLPEncoder
    >>> from artifex_plugins.vae.decoders import MLPDecoder
    >>> rngs = nnx.Rngs(0)
    >>> m = ImportanceWeightedVAE(MLPEncoder([8], 2, input_dim=(6,), rngs=rngs), MLPDecoder([8], (6,), 2, rngs=rngs),
    ...                           latent_dim=2, rngs=rngs)
    >>> m.log_importance_weights(jnp.ones((3, 6)), 5).shape
    (5, 3)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_plugins.vae.base import call_module, draw_key
from artifex_zoo._bounds import gaussian_log_density, standard_normal_log_density

__all__ = ["ImportanceWeightedVAE", "frozen_copy", "repeat_batch"]


def repeat_batch(x: jax.Array, n: int) -> jax.Array:
    """``x`` ``(B, ...)`` repeated ``n`` times along a new leading axis, flattened: ``(n * B, ...)``.

    Example:
        >>> repeat_batch(jnp.arange(2), 3).tolist()
        [0, 1, 0, 1, 0, 1]
    """
    return jnp.broadcast_to(x[None], (n, *x.shape)).reshape(n * x.shape[0], *x.shape[1:])


def frozen_copy(module: nnx.Module) -> nnx.Module:
    """A copy of ``module`` whose floating-point state passes no gradient (``jax.lax.stop_gradient``).

    Example:
        >>> lin = nnx.Linear(1, 1, rngs=nnx.Rngs(0))
        >>> g = nnx.grad(lambda m: frozen_copy(m)(jnp.ones((1, 1))).sum())(lin)
        >>> float(g["kernel"][...].sum())
        0.0
    """
    graphdef, state = nnx.split(module)

    def stop(leaf: Any) -> Any:
        if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jnp.inexact):
            return jax.lax.stop_gradient(leaf)
        return leaf

    return nnx.merge(graphdef, jax.tree.map(stop, state))


class ImportanceWeightedVAE(VAE):
    """A Gaussian-posterior VAE that exposes its importance weights (the base of IWAE, MIWAE, PIWAE, VampPrior).

    Its loss is the VAE's; subclasses change it through ``loss_terms``. Arguments as :class:`VAE`.
    """

    def log_prior(self, z: jax.Array) -> jax.Array:
        """``log p(z)`` summed over the latent dimensions: ``N(0, I)`` here. Shape ``z.shape[:-1]``."""
        return standard_normal_log_density(z)

    def posterior_samples(
        self, x: jax.Array, num_samples: int, key: jax.Array
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(z, mean, log_var)``: ``num_samples`` reparameterized draws ``z`` ``(n, B, D)`` from ``q(z | x)``."""
        mean, log_var = self.encode(x)
        eps = jax.random.normal(key, (num_samples, *mean.shape), mean.dtype)
        z = mean[None] + jnp.exp(0.5 * jnp.clip(log_var, -20.0, 20.0))[None] * eps
        return z, mean, log_var

    def log_likelihood_of(self, x: jax.Array, z: jax.Array, *, decoder: nnx.Module | None = None) -> jax.Array:
        """``log p(x | z)`` ``(n, B)`` for latents ``z`` ``(n, B, D)``; ``decoder`` replaces the model's own."""
        n, b = z.shape[0], z.shape[1]
        flat = z.reshape(n * b, *z.shape[2:])
        if decoder is None:
            outputs = self.decode_outputs(flat)
        else:
            flat = self.latent.decoder_input(flat)
            outputs = {"z": flat, "decoder_output": call_module(decoder, flat)}
        return jnp.asarray(self.log_likelihood(repeat_batch(x, n), outputs)).reshape(n, b)

    def log_importance_weights(
        self, x: jax.Array, num_samples: int = 1, *, key: jax.Array | None = None
    ) -> jax.Array:
        """``log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)``, ``z_i ~ q(z | x)``: shape ``(num_samples, B)``.

        The hook the zoo's bounds and its ``zoo_iwae`` metric read. ``key`` defaults to the model's stream.
        """
        key = draw_key(self.rngs) if key is None else key
        z, mean, log_var = self.posterior_samples(x, num_samples, key)
        log_q = gaussian_log_density(z, mean[None], log_var[None])
        return self.log_likelihood_of(x, z) + self.log_prior(z) - log_q
