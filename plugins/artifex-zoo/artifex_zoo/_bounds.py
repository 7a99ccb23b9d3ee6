"""Importance-weighted bounds and Gaussian log-densities: the pure functions the zoo's objectives share.

For log-weights ``log w_i = log p(x, z_i) - log q(z_i | x)``, ``z_i ~ q(z | x)``:

* IWAE (Burda et al. 2016): ``L_k = log (1/k) sum_i w_i = logsumexp_i log w_i - log k``; ``L_1`` is the
  ELBO and ``E[L_k] <= E[L_{k+1}] <= log p(x)``.
* MIWAE (Rainforth et al. 2018): ``M`` independent IWAE bounds of ``K`` samples each, averaged:
  ``L_{M,K} = (1/M) sum_m [logsumexp_k log w_{m,k} - log K]``; ``L_{1,K} = L_K``, ``L_{M,1}`` is the ELBO
  averaged over ``M`` samples.

Example:
    >>> import jax.numpy as jnp
    >>> log_w = jnp.log(jnp.array([[1.0], [3.0]]))  # two samples of one example
    >>> round(float(iwae_bound(log_w)[0]), 6)  # log((1 + 3) / 2)
    0.693147
    >>> round(float(miwae_bound(log_w, 2)[0]), 6)  # (log 1 + log 3) / 2
    0.549306
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["LOG_2PI", "gaussian_log_density", "iwae_bound", "miwae_bound", "standard_normal_log_density"]

LOG_2PI = math.log(2.0 * math.pi)
_LOG_VAR_MIN, _LOG_VAR_MAX = -20.0, 20.0


def gaussian_log_density(z: jax.Array, mean: jax.Array, log_var: jax.Array) -> jax.Array:
    """``log N(z; mean, diag(exp(log_var)))`` summed over the last axis (``log_var`` clipped to [-20, 20]).

    Example:
        >>> round(float(gaussian_log_density(jnp.zeros(1), jnp.zeros(1), jnp.zeros(1))), 4)  # -log(2 pi) / 2
        -0.9189
    """
    log_var = jnp.clip(log_var, _LOG_VAR_MIN, _LOG_VAR_MAX)
    return -0.5 * jnp.sum(LOG_2PI + log_var + jnp.square(z - mean) * jnp.exp(-log_var), axis=-1)


def standard_normal_log_density(z: jax.Array) -> jax.Array:
    """``log N(z; 0, I)`` summed over the last axis.

    Example:
        >>> round(float(standard_normal_log_density(jnp.ones(2))), 4)  # -log(2 pi) - 1
        -2.8379
    """
    return -0.5 * jnp.sum(LOG_2PI + jnp.square(z), axis=-1)


def iwae_bound(log_w: jax.Array, axis: int = 0) -> jax.Array:
    """The IWAE bound ``logsumexp(log_w, axis) - log k`` with ``k = log_w.shape[axis]`` samples.

    Example:
        >>> float(iwae_bound(jnp.zeros((4, 3))).sum())  # equal weights of 1: log 1 = 0 for each example
        0.0
    """
    return jax.nn.logsumexp(log_w, axis=axis) - math.log(log_w.shape[axis])


def miwae_bound(log_w: jax.Array, num_outer: int) -> jax.Array:
    """The MIWAE bound of log-weights ``(M * K, ...)``: the IWAE bound of each of ``M`` groups of ``K``, averaged.

    Sample ``m * K + k`` belongs to group ``m``.

    Raises:
        ValueError: If ``M`` does not divide the number of samples.

    Example:
        >>> miwae_bound(jnp.zeros((6, 2)), 3).shape
        (2,)
    """
    n = log_w.shape[0]
    if num_outer < 1 or n % num_outer:
        raise ValueError(f"num_outer={num_outer} must be >= 1 and divide the {n} samples")
    grouped = log_w.reshape(num_outer, n // num_outer, *log_w.shape[1:])
    return jnp.mean(iwae_bound(grouped, axis=1), axis=0)
