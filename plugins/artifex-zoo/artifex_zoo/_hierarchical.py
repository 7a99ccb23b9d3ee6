"""A VAE with two stochastic layers (Burda et al. 2016's two-layer IWAE architecture).

Generative model (top-down):   p(z2) = N(0, I),   p(z1 | z2) = N(mu_p(z2), sigma_p^2(z2)),   p(x | z1).
Inference model:               q(z1 | x) = N(mu_1(x), sigma_1^2(x)),   q(z2 | z1) = N(mu_2(z1), sigma_2^2(z1)).

With ``log w = log p(x | z1) + log p(z1 | z2) + log p(z2) - log q(z1 | x) - log q(z2 | z1)``, the model
minimises ``-L_k = -E[logsumexp_i log w_i - log k]`` (``k = 1``: the negative ELBO,
``-E[log p(x|z1)] + E[log q(z1|x) - log p(z1|z2)] + E[log q(z2|z1) - log p(z2)]``). ``loss_fn`` reports the
two KL terms of the first sample as ``kl_z1`` and ``kl_z2`` (Monte Carlo; ``kl_loss`` is their sum).

``encode`` gives ``q(z1 | x)``, ``decode`` reads z1, and ``sample`` goes top-down: ``z2 ~ p(z2)``,
``z1 ~ p(z1 | z2)``, ``x`` decoded from z1. The model declares ``latent_type = "hierarchical"`` (the
built-in metrics assume one ``N(0, I)`` latent) and provides :meth:`~HierarchicalVAE.log_importance_weights`,
from which the zoo's ``zoo_iwae`` metric estimates the test NLL.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_core import ModelConfig, create_model
    >>> cfg = ModelConfig(model="hierarchical_vae", input_dim=(6,), latent_dim=4, hidden_dims=(8,),
    ...                   parameters={"top_latent_dim": 2, "top_hidden_dims": [8]})
    >>> model = create_model(cfg, rngs=nnx.Rngs(0))
    >>> model.log_importance_weights(jnp.ones((3, 6)), 5).shape, model.sample(2).shape
    ((5, 3), (2, 6))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_plugins.vae.base import apply_precision, call_module, check_n_samples, draw_key
from artifex_plugins.vae.encoders import MLPEncoder
from artifex_zoo._bounds import gaussian_log_density, iwae_bound, standard_normal_log_density
from artifex_zoo._weighted import repeat_batch

__all__ = ["HierarchicalVAE"]


def _gaussian(module: nnx.Module, inputs: jax.Array) -> tuple[jax.Array, jax.Array]:
    mean, log_var = call_module(module, inputs)
    return mean, jnp.clip(log_var, -20.0, 20.0)


def _draw(mean: jax.Array, log_var: jax.Array, key: jax.Array, temperature: float = 1.0) -> jax.Array:
    return mean + temperature * jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape, mean.dtype)


class HierarchicalVAE(VAE):
    """Two stochastic layers: ``x -> z1 -> z2`` to infer, ``z2 -> z1 -> x`` to generate.

    Args:
        encoder: ``q(z1 | x)``: maps inputs to ``(mean, log_var)`` of z1 (``latent_dim`` wide).
        decoder: ``p(x | z1)``: maps z1 to raw outputs.
        latent_dim: Size of z1.
        rngs: Random number generators.
        top_latent_dim: Size of z2.
        top_hidden_dims: Hidden widths of the MLPs of ``q(z2 | z1)`` and ``p(z1 | z2)`` (when not given).
        k: Importance samples of the training bound (1: the ELBO).
        top_encoder: ``q(z2 | z1)`` as a module ``z1 -> (mean, log_var)``; default an MLP.
        top_decoder: ``p(z1 | z2)`` as a module ``z2 -> (mean, log_var)``; default an MLP.
        reconstruction_loss_type: Registered likelihood.
        precision: Matmul precision of the layers.

    Raises:
        ValueError: If ``k`` or ``top_latent_dim`` is not a positive integer.
    """

    latent_type: ClassVar[str] = "hierarchical"
    """Not ``"gaussian"``: z1's prior is ``p(z1 | z2)``, not ``N(0, I)``."""

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        top_latent_dim: int = 16,
        top_hidden_dims: Sequence[int] = (128,),
        k: int = 1,
        top_encoder: nnx.Module | None = None,
        top_decoder: nnx.Module | None = None,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        for name, value in (("k", k), ("top_latent_dim", top_latent_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.k = k
        self.top_latent_dim = top_latent_dim
        hidden = list(top_hidden_dims)
        self.top_encoder = top_encoder or MLPEncoder(hidden, top_latent_dim, input_dim=(latent_dim,), rngs=rngs)
        self.top_decoder = top_decoder or MLPEncoder(hidden, latent_dim, input_dim=(top_latent_dim,), rngs=rngs)
        if precision is not None:
            apply_precision(self.top_encoder, precision)
            apply_precision(self.top_decoder, precision)

    def log_weight_terms(self, x: jax.Array, num_samples: int, *, key: jax.Array | None = None) -> dict[str, jax.Array]:
        """The parts of ``log w`` for ``num_samples`` draws ``z1 ~ q(z1|x)``, ``z2 ~ q(z2|z1)``, each ``(n, B)``.

        Keys: ``log_px_z1``, ``log_pz1_z2``, ``log_pz2``, ``log_qz1``, ``log_qz2``.
        """
        key = draw_key(self.rngs) if key is None else key
        k1, k2 = jax.random.split(key)
        n = num_samples
        mean1, log_var1 = self.encode(x)
        log_var1 = jnp.clip(log_var1, -20.0, 20.0)
        b = mean1.shape[0]
        z1 = _draw(jnp.broadcast_to(mean1, (n, *mean1.shape)), jnp.broadcast_to(log_var1, (n, *log_var1.shape)), k1)
        flat1 = z1.reshape(n * b, -1)
        mean2, log_var2 = _gaussian(self.top_encoder, flat1)
        z2 = _draw(mean2, log_var2, k2)
        prior_mean1, prior_log_var1 = _gaussian(self.top_decoder, z2)
        log_px = jnp.asarray(self.log_likelihood(repeat_batch(x, n), self.decode_outputs(flat1)))
        return {
            "log_px_z1": log_px.reshape(n, b),
            "log_pz1_z2": gaussian_log_density(flat1, prior_mean1, prior_log_var1).reshape(n, b),
            "log_pz2": standard_normal_log_density(z2).reshape(n, b),
            "log_qz1": gaussian_log_density(z1, mean1[None], log_var1[None]),
            "log_qz2": gaussian_log_density(z2, mean2, log_var2).reshape(n, b),
        }

    def log_importance_weights(
        self, x: jax.Array, num_samples: int = 1, *, key: jax.Array | None = None
    ) -> jax.Array:
        """``log w = log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)``: ``(num_samples, B)``."""
        t = self.log_weight_terms(x, num_samples, key=key)
        return t["log_px_z1"] + t["log_pz1_z2"] + t["log_pz2"] - t["log_qz1"] - t["log_qz2"]

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, **kwargs: Any
    ) -> dict[str, jax.Array]:
        """``loss = -mean L_k``; ``kl_z1``, ``kl_z2`` and ``kl_loss`` from the first of the k samples."""
        t = self.log_weight_terms(x, self.k)
        log_w = t["log_px_z1"] + t["log_pz1_z2"] + t["log_pz2"] - t["log_qz1"] - t["log_qz2"]
        kl_z1 = jnp.mean(t["log_qz1"][0] - t["log_pz1_z2"][0])
        kl_z2 = jnp.mean(t["log_qz2"][0] - t["log_pz2"][0])
        return {
            "reconstruction_loss": reconstruction_loss,
            "kl_z1": kl_z1,
            "kl_z2": kl_z2,
            "kl_loss": kl_z1 + kl_z2,
            "loss": -jnp.mean(iwae_bound(log_w)),
        }

    def sample_latents(
        self, n_samples: int, *, temperature: float = 1.0, key: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Top-down ancestral latents ``(z1, z2)``: ``z2 ~ N(0, T^2 I)``, ``z1 ~ p(z1 | z2)`` (noise scaled by T)."""
        key = draw_key(self.rngs) if key is None else key
        k2, k1 = jax.random.split(key)
        z2 = temperature * jax.random.normal(k2, (n_samples, self.top_latent_dim))
        mean1, log_var1 = _gaussian(self.top_decoder, z2)
        return _draw(mean1, log_var1, k1, temperature), z2

    def sample(self, n_samples: int = 1, *, temperature: float = 1.0, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Sample top-down (z2, then z1, then x), decoded to data space."""
        n_samples = check_n_samples(n_samples, type(self).__name__)
        key = draw_key(rngs) if rngs is not None else None
        z1, _ = self.sample_latents(n_samples, temperature=temperature, key=key)
        return self.decode(z1, rngs=rngs)
