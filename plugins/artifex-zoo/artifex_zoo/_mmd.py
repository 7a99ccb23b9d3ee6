"""The maximum mean discrepancy (Gretton et al. 2012) between two samples, unbiased, with RBF or IMQ kernels.

For samples ``x_1..x_n ~ P`` and ``y_1..y_m ~ Q`` and a kernel ``k``,

    MMD_u^2 = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
              - 2/(nm) sum_{i, j} k(x_i, y_j),

an unbiased estimate of ``MMD^2(P, Q)`` (it can be negative). Kernels, with scale ``C = 2 * D * sigma^2``:
``rbf``: ``exp(-||a - b||^2 / C)``; ``imq``: ``C / (C + ||a - b||^2)``.

Example:
    >>> import jax.numpy as jnp
    >>> x = jnp.array([[0.0], [1.0]])
    >>> round(float(mmd_unbiased(x, x, "rbf", scale=1.0)), 6)  # identical samples: -2 (1 - e^-1) / n
    -0.632121
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["KERNELS", "kernel_matrix", "mmd_unbiased"]

KERNELS = ("rbf", "imq")


def _squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.sum(jnp.square(a[:, None, :] - b[None, :, :]), axis=-1)


def kernel_matrix(a: jax.Array, b: jax.Array, kernel: str, scale: float) -> jax.Array:
    """``k(a_i, b_j)`` ``(n, m)`` for the kernel ``"rbf"`` or ``"imq"`` of scale ``C``.

    Raises:
        ValueError: For another kernel name or a non-positive scale.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    d2 = _squared_distances(a, b)
    return jnp.exp(-d2 / scale) if kernel == "rbf" else scale / (scale + d2)


def _off_diagonal_mean(k: jax.Array) -> jax.Array:
    n = k.shape[0]
    return (jnp.sum(k) - jnp.sum(jnp.diagonal(k))) / (n * (n - 1))


def mmd_unbiased(x: jax.Array, y: jax.Array, kernel: str = "imq", *, scale: float) -> jax.Array:
    """The unbiased ``MMD_u^2`` between samples ``x`` ``(n, D)`` and ``y`` ``(m, D)``; ``n, m >= 2``.

    Raises:
        ValueError: For fewer than two samples on either side, or an unknown kernel.
    """
    x, y = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 samples on each side, got {x.shape[0]} and {y.shape[0]}")
    kxx = kernel_matrix(x, x, kernel, scale)
    kyy = kernel_matrix(y, y, kernel, scale)
    kxy = kernel_matrix(x, y, kernel, scale)
    return _off_diagonal_mean(kxx) + _off_diagonal_mean(kyy) - 2.0 * jnp.mean(kxy)


