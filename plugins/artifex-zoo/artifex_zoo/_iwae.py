"""IWAE (Burda, Grosse and Salakhutdinov 2016), MIWAE and PIWAE (Rainforth et al. 2018).

With ``log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)`` and ``z_i = mu(x) + sigma(x) * eps_i``:

* **IWAE** maximises ``L_k = E[log (1/k) sum_i w_i]``. Its reparameterized gradient is the paper's estimator,
  ``sum_i w~_i grad log w_i`` with the normalised weights ``w~_i = w_i / sum_j w_j``.
* **MIWAE** maximises ``L_{M,K} = (1/M) sum_m L_K^{(m)}``: ``M`` independent IWAE bounds of ``K`` samples.
* **PIWAE** trains the decoder (theta) on the IWAE bound of all ``M * K`` samples and the encoder (phi) on the
  MIWAE bound of the same samples, ``M`` groups of ``K``, so that the encoder's gradient keeps its
  signal-to-noise ratio as ``K`` grows. With stop-gradients ``sg``: ``loss = -L_{MK}(theta, sg(phi)) -
  L_{M,K}(sg(theta), phi) + sg(L_{M,K})``; its value is ``-L_{MK}``.

Every loss is in nats per example (batch mean). ``loss_fn`` also reports the forward pass's
``reconstruction_loss`` and analytic ``kl_loss`` (the single-sample ELBO's terms, for reference).

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_core import ModelConfig, create_model
    >>> cfg = ModelConfig(model="iwae", input_dim=(6,), latent_dim=2, hidden_dims=(8,), parameters={"k": 4})
    >>> model = create_model(cfg, rngs=nnx.Rngs(0))
    >>> sorted(k for k in model.loss_fn(x=jnp.ones((3, 6))) if "iwae" in k)
    ['iwae_bound']
"""

from __future__ import annotations

import operator
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae.base import draw_key
from artifex_zoo._bounds import gaussian_log_density, iwae_bound, miwae_bound
from artifex_zoo._weighted import ImportanceWeightedVAE, frozen_copy

__all__ = ["IWAE", "MIWAE", "PIWAE"]


def _count(name: str, value: Any) -> int:
    try:
        n = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        n = None
    if n is None or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return n


class IWAE(ImportanceWeightedVAE):
    """The importance-weighted autoencoder: minimises ``-L_k``, ``L_k = E[logsumexp_i log w_i - log k]``.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size.
        rngs: Random number generators (the model's sampling stream).
        k: Importance samples per example (``k = 1``: the ELBO with a sampled KL).
        reconstruction_loss_type: Registered likelihood (``bce`` for binarized images).
        precision: Matmul precision of the layers.

    Raises:
        ValueError: If ``k`` is not an integer >= 1.

    Example:
        >>> from artifex_core import ModelConfig, create_model
        >>> m = create_model(ModelConfig(model="iwae", input_dim=(4,), latent_dim=2, parameters={"k": 3}),
        ...                  rngs=nnx.Rngs(0))
        >>> m.k
        3
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        k: int = 5,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        self.k = _count("k", k)

    def bound(self, x: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
        """The per-example IWAE bound ``L_k`` ``(B,)`` of one draw of ``k`` samples."""
        return iwae_bound(self.log_importance_weights(x, self.k, key=key))

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, **kwargs: Any
    ) -> dict[str, jax.Array]:
        """``loss = iwae_bound = -mean L_k``, plus the forward pass's ELBO terms for reference."""
        terms = super().loss_terms(x, outputs, reconstruction_loss, **kwargs)
        loss = -jnp.mean(self.bound(x))
        return {**terms, "iwae_bound": loss, "loss": loss}


class MIWAE(ImportanceWeightedVAE):
    """MIWAE: minimises ``-L_{M,K}``, the mean of ``M`` IWAE bounds of ``K`` samples each.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size.
        rngs: Random number generators.
        num_outer: ``M``, the number of independent bounds averaged.
        num_inner: ``K``, the importance samples of each bound.
        reconstruction_loss_type: Registered likelihood.
        precision: Matmul precision of the layers.

    Raises:
        ValueError: If ``num_outer`` or ``num_inner`` is not an integer >= 1.
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        num_outer: int = 8,
        num_inner: int = 8,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        self.num_outer = _count("num_outer", num_outer)
        self.num_inner = _count("num_inner", num_inner)

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, **kwargs: Any
    ) -> dict[str, jax.Array]:
        """``loss = miwae_bound = -mean L_{M,K}``, plus the forward pass's ELBO terms for reference."""
        terms = super().loss_terms(x, outputs, reconstruction_loss, **kwargs)
        log_w = self.log_importance_weights(x, self.num_outer * self.num_inner)
        loss = -jnp.mean(miwae_bound(log_w, self.num_outer))
        return {**terms, "miwae_bound": loss, "loss": loss}


class PIWAE(MIWAE):
    """PIWAE: the decoder learns from the IWAE bound of ``M * K`` samples, the encoder from their MIWAE bound.

    Arguments as :class:`MIWAE`. ``loss_fn`` reports ``iwae_bound`` (``-L_{MK}``, the decoder's objective and
    the ``loss`` value) and ``miwae_bound`` (``-L_{M,K}``, the encoder's); the gradient of ``loss`` is
    ``grad_theta(-L_{MK}) + grad_phi(-L_{M,K})``.
    """

    def piwae_objectives(self, x: jax.Array, *, key: jax.Array | None = None) -> dict[str, jax.Array]:
        """The two objectives of one draw of ``M * K`` samples, each ``(B,)``, with their stop-gradients.

        ``decoder``: ``L_{MK}`` with the samples and ``log q`` held fixed (gradient to the decoder only);
        ``encoder``: ``L_{M,K}`` through a frozen copy of the decoder (gradient to the encoder only).
        """
        key = draw_key(self.rngs) if key is None else key
        z, mean, log_var = self.posterior_samples(x, self.num_outer * self.num_inner, key)
        log_prior_q = self.log_prior(z) - gaussian_log_density(z, mean[None], log_var[None])
        z_fixed = jax.lax.stop_gradient(z)
        log_w_dec = self.log_likelihood_of(x, z_fixed) + jax.lax.stop_gradient(log_prior_q)
        log_w_enc = self.log_likelihood_of(x, z, decoder=frozen_copy(self.decoder)) + log_prior_q
        return {"decoder": iwae_bound(log_w_dec), "encoder": miwae_bound(log_w_enc, self.num_outer)}

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, **kwargs: Any
    ) -> dict[str, jax.Array]:
        """``loss``: value ``-mean L_{MK}``; gradient to theta from it, to phi from ``-mean L_{M,K}``."""
        terms = ImportanceWeightedVAE.loss_terms(self, x, outputs, reconstruction_loss, **kwargs)
        parts = self.piwae_objectives(x)
        iwae_loss = -jnp.mean(parts["decoder"])
        miwae_loss = -jnp.mean(parts["encoder"])
        loss = iwae_loss + miwae_loss - jax.lax.stop_gradient(miwae_loss)
        return {**terms, "iwae_bound": iwae_loss, "miwae_bound": miwae_loss, "loss": loss}
