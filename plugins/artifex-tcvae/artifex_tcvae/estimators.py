"""The minibatch-weighted-sampling (MWS) decomposition of the ELBO's KL term (Chen et al. 2018).

For a minibatch of ``M`` examples from a data set of size ``N``, with ``z_i ~ q(z|x_i)`` and the
diagonal Gaussian posteriors ``q(z|x_j)``, MWS estimates the aggregate posterior and its marginals as

    log q(z_i)    ≈ logsumexp_j  log q(z_i | x_j)    − log(N M)
    log q(z_id)   ≈ logsumexp_j  log q(z_id | x_j)   − log(N M)      (each latent dimension d)

and splits ``KL(q(z|x) || p(z))`` into three terms, each averaged over the batch:

    index-code MI        log q(z_i|x_i) − log q(z_i)
    total correlation    log q(z_i)     − Σ_d log q(z_id)
    dimension-wise KL    Σ_d log q(z_id) − Σ_d log p(z_id)

They telescope: their sum is exactly the single-sample estimate ``log q(z_i|x_i) − log p(z_i)`` of
``KL(q(z|x_i) || p(z))``, averaged over the batch.

Example:
    >>> import jax, jax.numpy as jnp
    >>> mean, log_var = jnp.zeros((8, 3)), jnp.zeros((8, 3))
    >>> z = jax.random.normal(jax.random.key(0), (8, 3))
    >>> terms = mws_decomposition(z, mean, log_var, dataset_size=100)
    >>> round(float(terms["index_code_mi"]), 4) == round(float(jnp.log(100.0)), 4)  # identical posteriors
    True
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp

__all__ = ["LOG_VAR_MAX", "LOG_VAR_MIN", "gaussian_log_density", "mws_decomposition"]

LOG_VAR_MIN, LOG_VAR_MAX = -20.0, 20.0
"""Log-variances are clipped to this range, as the base VAE clips them."""

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """Elementwise ``log N(z; mean, exp(log_var))`` (broadcasting), in nats.

    Example:
        >>> round(float(gaussian_log_density(jnp.zeros(()), jnp.zeros(()), jnp.zeros(()))), 4)
        -0.9189
    """
    return -0.5 * (_LOG_2PI + log_var + jnp.square(z - mean) * jnp.exp(-log_var))


def mws_decomposition(
    z: jax.Array,
    mean: jax.Array,
    log_var: jax.Array,
    dataset_size: int | None = None,
) -> dict[str, jax.Array]:
    """Index-code MI, total correlation and dimension-wise KL by minibatch-weighted sampling.

    Latents of any shape ``(M, ...)`` are flattened to ``(M, D)``: every latent unit is one dimension.
    Memory is ``O(M² D)``.

    Args:
        z: Latent samples, ``z_i ~ q(z | x_i)``, shape ``(M, ...)``.
        mean: Posterior means, same shape.
        log_var: Posterior log-variances, same shape (clipped to ``[-20, 20]``).
        dataset_size: Size ``N`` of the data set the minibatch is drawn from; None uses ``N = M``.

    Returns:
        ``index_code_mi``, ``total_correlation`` and ``dimension_wise_kl``: scalars, batch means, in nats.

    Raises:
        ValueError: If the shapes differ or ``dataset_size`` is not a positive integer.
    """
    if not (z.shape == mean.shape == log_var.shape) or z.ndim < 2:
        raise ValueError(
            f"z, mean and log_var must share a shape (batch, ...), got {z.shape}, {mean.shape}, {log_var.shape}"
        )
    batch = z.shape[0]
    n = batch if dataset_size is None else dataset_size
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"dataset_size must be a positive integer or None, got {dataset_size!r}")
    z = z.reshape(batch, -1)
    mean = mean.reshape(batch, -1)
    log_var = jnp.clip(log_var.reshape(batch, -1), LOG_VAR_MIN, LOG_VAR_MAX)

    # pairwise[i, j, d] = log q(z_id | x_j)
    pairwise = gaussian_log_density(z[:, None, :], mean[None, :, :], log_var[None, :, :])
    log_norm = math.log(n) + math.log(batch)
    log_q_z_given_x = jnp.diagonal(pairwise.sum(axis=-1))  # log q(z_i | x_i)
    log_q_z = logsumexp(pairwise.sum(axis=-1), axis=1) - log_norm
    log_q_z_product = (logsumexp(pairwise, axis=1) - log_norm).sum(axis=-1)
    log_p_z = gaussian_log_density(z, jnp.zeros_like(z), jnp.zeros_like(z)).sum(axis=-1)
    return {
        "index_code_mi": jnp.mean(log_q_z_given_x - log_q_z),
        "total_correlation": jnp.mean(log_q_z - log_q_z_product),
        "dimension_wise_kl": jnp.mean(log_q_z_product - log_p_z),
    }
