"""DIP-VAE I and II (Kumar, Sattigeri and Balakrishnan 2018): a VAE that pushes the covariance of q(z) to I.

    loss = reconstruction + kl_weight * KL(q(z|x) || N(0, I))
           + lambda_od * sum_{i != j} Cov_ij^2 + lambda_d * sum_i (Cov_ii - 1)^2

* DIP-VAE-I: ``Cov = Cov_{p(x)}[mu(x)]``, the covariance of the posterior means over the batch;
* DIP-VAE-II: ``Cov = E_{p(x)}[Sigma(x)] + Cov_{p(x)}[mu(x)]``, the covariance of the aggregate posterior
  ``q(z)`` (``Sigma(x) = diag(exp(log_var))``).

Covariances are the batch's (population, ``1/B``) moments. The paper uses ``lambda_d = 10 lambda_od`` for I
and ``lambda_d = lambda_od`` for II.

Example:
    >>> import jax.numpy as jnp
    >>> mu = jnp.array([[1.0, 0.0], [-1.0, 0.0]])  # Cov[mu] = diag(1, 0)
    >>> dip_covariance(mu, jnp.zeros_like(mu), "i").tolist(), dip_covariance(mu, jnp.zeros_like(mu), "ii").tolist()
    ([[1.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 1.0]])
    >>> [float(v) for v in dip_penalties(jnp.array([[1.0, 0.5], [0.5, 3.0]]))]  # (0.25 + 0.25, 0 + 4)
    [0.5, 4.0]
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_zoo._objective import penalised_terms

__all__ = ["DIPVAE", "dip_covariance", "dip_penalties"]

_TYPES = ("i", "ii")


def dip_covariance(mean: jax.Array, log_var: jax.Array, dip_type: str) -> jax.Array:
    """The ``(D, D)`` covariance DIP-VAE regularises: ``Cov[mu]`` (``"i"``) or ``E[Sigma] + Cov[mu]`` (``"ii"``).

    Raises:
        ValueError: For a ``dip_type`` other than ``"i"`` or ``"ii"``.
    """
    if dip_type not in _TYPES:
        raise ValueError(f"dip_type must be one of {_TYPES}, got {dip_type!r}")
    mean = mean.reshape(mean.shape[0], -1)
    centred = mean - jnp.mean(mean, axis=0, keepdims=True)
    cov = centred.T @ centred / mean.shape[0]
    if dip_type == "ii":
        cov = cov + jnp.diag(jnp.mean(jnp.exp(log_var.reshape(mean.shape)), axis=0))
    return cov


def dip_penalties(cov: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(sum_{i != j} Cov_ij^2, sum_i (Cov_ii - 1)^2)``: the off-diagonal and diagonal penalties."""
    diag = jnp.diagonal(cov)
    off = jnp.sum(jnp.square(cov)) - jnp.sum(jnp.square(diag))
    return off, jnp.sum(jnp.square(diag - 1.0))


class DIPVAE(VAE):
    """DIP-VAE: the VAE's loss plus the covariance penalties above.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size.
        rngs: Random number generators.
        dip_type: ``"i"`` or ``"ii"``.
        lambda_od: Weight of the off-diagonal penalty.
        lambda_d: Weight of the diagonal penalty.
        kl_weight: Weight of the KL term.
        reconstruction_loss_type: Registered likelihood.
        precision: Matmul precision of the layers.

    Raises:
        ValueError: For an unknown ``dip_type`` or a negative weight.
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        dip_type: str = "i",
        lambda_od: float = 10.0,
        lambda_d: float = 100.0,
        kl_weight: float = 1.0,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, kl_weight=kl_weight, precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        if dip_type not in _TYPES:
            raise ValueError(f"dip_type must be one of {_TYPES}, got {dip_type!r}")
        for name, value in (("lambda_od", lambda_od), ("lambda_d", lambda_d)):
            if not float(value) >= 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        self.dip_type, self.lambda_od, self.lambda_d = dip_type, float(lambda_od), float(lambda_d)

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, **kwargs: Any
    ) -> dict[str, jax.Array]:
        """The VAE's terms, ``dip_off_diagonal``, ``dip_diagonal`` and ``loss`` with their weighted sum."""
        terms = super().loss_terms(x, outputs, reconstruction_loss, **kwargs)
        off, diag = dip_penalties(dip_covariance(outputs["mean"], outputs["log_var"], self.dip_type))
        penalties = {"dip_off_diagonal": (self.lambda_od, off), "dip_diagonal": (self.lambda_d, diag)}
        return penalised_terms(terms, penalties)
