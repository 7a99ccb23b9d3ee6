"""The plugin's modules, written against artifex's public API only."""

from __future__ import annotations

import math

import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae import VAE


class TinyEncoder(nnx.Module):
    """One linear layer to (mean, log_var)."""

    def __init__(self, hidden_dims, latent_dim, activation="relu", input_dim=None, *, rngs):
        self.latent_dim = latent_dim
        self.input_dim = input_dim
        self.linear = nnx.Linear(math.prod(input_dim), 2 * latent_dim, rngs=rngs)

    def __call__(self, x, *, rngs=None):
        h = self.linear(x.reshape(x.shape[0], -1))
        return jnp.split(h, 2, axis=-1)


class TinyVAE(VAE):
    """A VAE with one extra, ignored parameter."""

    def __init__(self, encoder, decoder, latent_dim, *, rngs, kl_weight=1.0, free_bits=0.0):
        super().__init__(encoder, decoder, latent_dim, rngs=rngs, kl_weight=kl_weight)
        self.free_bits = free_bits
