"""Latent-space statistics: posterior means over a data set and active units (Burda et al. 2016).

A latent dimension ``u`` is *active* when the encoder's mean moves with the input:
``Cov_x(E_q[z_u | x]) > threshold`` (Burda et al. use 0.01). Collapsed dimensions, whose posterior is the
prior whatever the input, are inactive.

Example:
    >>> import numpy as np
    >>> means = np.stack([np.linspace(-1, 1, 100), np.full(100, 0.3)], axis=1)  # dim 1 is constant
    >>> active_units(means)
    1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from artifex_core.evaluation import EvalData, Metric
from artifex_plugins.metrics._contract import GAUSSIAN, batched, jitted, latent_type

__all__ = ["ActiveUnits", "active_units", "encode_means", "latent_variances"]


def latent_variances(means: Any) -> np.ndarray:
    """Variance over examples of each latent dimension of the posterior means ``(N, ...) -> (D,)``.

    Spatial latents ``(N, H, W, D)`` are flattened to ``(N, H*W*D)``.

    Example:
        >>> latent_variances(np.array([[0.0, 1.0], [2.0, 1.0]])).tolist()
        [1.0, 0.0]
    """
    m = np.asarray(means, np.float64)
    if m.ndim < 2 or m.shape[0] < 2:
        raise ValueError(f"means must have shape (N >= 2, D), got {m.shape}")
    return m.reshape(m.shape[0], -1).var(axis=0)


def active_units(means: Any, threshold: float = 0.01) -> int:
    """Number of latent dimensions whose posterior mean varies across inputs by more than ``threshold``.

    Args:
        means: Posterior means ``E_q[z | x]`` of ``N`` examples, ``(N, D)`` (or spatial ``(N, ..., D)``).
        threshold: Variance above which a dimension counts as active (Burda et al.: 0.01).

    Returns:
        The count of active dimensions.

    Example:
        >>> active_units(np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0]]))
        1
    """
    return int(np.sum(latent_variances(means) > threshold))


def encode_means(
    encode_fn: Callable[..., Any],
    x: Any,
    *,
    batch_size: int = 256,
    condition: Any = None,
) -> np.ndarray:
    """Posterior means of ``x`` in batches: ``encode_fn(x_batch) -> (mean, log_var)``; returns ``(N, ...)``.

    ``encode_fn`` is called as ``encode_fn(x_batch, y_batch)`` when ``condition`` is given. Wrap it in
    ``jax.jit`` yourself for speed (the last batch may be smaller).

    Example:
        >>> encode_means(lambda x: (2 * x, 0 * x), np.arange(5.0)[:, None], batch_size=2).ravel().tolist()
        [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    parts = []
    for start in range(0, n, batch_size):
        args: tuple[Any, ...] = (x[start : start + batch_size],)
        if condition is not None:
            args = (*args, condition[start : start + batch_size])
        mean = encode_fn(*args)[0]
        parts.append(np.asarray(mean))
    if not parts:
        raise ValueError("no examples to encode")
    return np.concatenate(parts, axis=0)


class ActiveUnits(Metric):
    """Active latent dimensions on the test split (Burda et al.): ``{"active_units", "latent_dim"}``.

    Applies to models that declare a Gaussian latent; the posterior means come from ``encode``.

    Args:
        threshold: Variance of the posterior mean above which a dimension is active.
        batch_size: Examples encoded per jitted call.

    Example:
        >>> ActiveUnits(threshold=0.05).threshold
        0.05
    """

    def __init__(self, *, threshold: float = 0.01, batch_size: int = 1000) -> None:
        self.threshold, self.batch_size = float(threshold), int(batch_size)

    def applies(self, run: Any) -> bool:
        """The model declares a Gaussian latent."""
        return latent_type(run.model) == GAUSSIAN

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """``{"active_units": count, "latent_dim": the config's latent_dim}``."""
        if run.model_config.conditional:
            enc = jitted(run.model, lambda m, xb, yb: m.encode(xb, yb)[0])
            means = np.concatenate(batched(enc, [data.x_test, data.y_test], self.batch_size))
        else:
            enc = jitted(run.model, lambda m, xb: m.encode(xb)[0])
            means = np.concatenate(batched(enc, [data.x_test], self.batch_size))
        return {
            "active_units": active_units(means.reshape(len(means), -1), self.threshold),
            "latent_dim": int(run.model_config.latent_dim),
        }
