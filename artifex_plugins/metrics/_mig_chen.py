"""MIG as Chen et al.'s own code estimates it (beta-tcvae, ``mutual_info_metric_shapes``): sampled posterior.

Where disentanglement_lib's MIG (:func:`~artifex_plugins.metrics._disentanglement.mig`) bins the posterior
means, Chen et al. (2018) estimate the mutual information between each latent ``z_j`` and factor ``v_k``
from the posterior itself:

- one sample ``z^(n) ~ q(z | x_n)`` per example;
- the marginal entropy ``H(z_j) = -E[log q(z_j)]``, with ``q(z_j) = 1/N sum_n q(z_j | x_n)`` the aggregate
  posterior over the *whole* sample, estimated on (up to ``num_samples``) of the samples;
- the conditional entropy ``H(z_j | v_k) = sum_v p(v) H(z_j | v_k = v)``, each term the same estimate
  within the examples whose factor ``k`` has value ``v`` (their own mixture, their own samples);
- ``I(z_j; v_k) = H(z_j) - H(z_j | v_k)`` (clamped at 0), normalised by the factor's entropy ``H(v_k)``
  (for a full factor grid, as in Chen et al.'s dSprites, ``log`` of its number of values);
- ``MIG = mean_k (I_(1) - I_(2)) / H(v_k)`` over the two most informative latents of each factor.

``q(z | x)`` is a diagonal Gaussian ``N(mean, exp(log_var))``. NumPy only. The estimator is biased upward
for a latent whose posteriors are much narrower than the spacing of their means: each sample then sees
mostly its own component, so ``H(z_j) - H(z_j | v)`` tends to ``log(N / N_v)`` even for a latent unrelated
to the factor (the full grid of Chen et al.'s dSprites, and wide posteriors, keep this small).

Example:
    >>> rng = np.random.default_rng(0)
    >>> f = rng.integers(0, 4, size=(2000, 2))
    >>> means = f[:, ::-1].astype(float)        # latent 0 copies factor 1, latent 1 factor 0
    >>> log_vars = np.full(means.shape, np.log(1e-4))
    >>> round(mig_chen(means, log_vars, f), 2)
    1.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from artifex_plugins.metrics._disentanglement import discrete_entropy, mig_gaps

__all__ = ["estimate_entropies", "mig_chen", "mig_chen_details"]

_LOG_2PI = math.log(2 * math.pi)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def estimate_entropies(
    samples: Any, means: Any, log_vars: Any, *, chunk: int = 64
) -> np.ndarray:
    """``H(z_j)`` per dimension for the mixture ``q(z_j) = 1/N sum_n N(z_j; means[n, j], exp(log_vars[n, j]))``.

    ``-1/S sum_s log q(samples[s, j])``: the samples should come from the mixture (one per component, or a
    random subset of those). Chen et al.'s ``estimate_entropies``, in nats.

    Args:
        samples: ``(S, D)`` points.
        means: ``(N, D)`` component means.
        log_vars: ``(N, D)`` component log-variances.
        chunk: Samples evaluated against all ``N`` components at once (memory: ``chunk * N * D``).

    Example:
        >>> h = estimate_entropies(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)))
        >>> np.allclose(h, 0.5 * np.log(2 * np.pi))   # -log N(0; 0, 1)
        True
    """
    s = np.asarray(samples, np.float64)
    mu = np.asarray(means, np.float64)
    lv = np.asarray(log_vars, np.float64)
    if s.ndim != 2 or mu.shape != lv.shape or mu.ndim != 2 or s.shape[1] != mu.shape[1]:
        raise ValueError(f"samples (S, D), means and log_vars (N, D) must agree; got {s.shape}, {mu.shape}, {lv.shape}")
    if len(mu) == 0 or len(s) == 0:
        raise ValueError("estimate_entropies needs at least one sample and one component")
    inv_var = np.exp(-lv)[None]  # (1, N, D)
    norm = (-0.5 * (lv + _LOG_2PI))[None]
    log_n = math.log(len(mu))
    total = np.zeros(mu.shape[1])
    for start in range(0, len(s), chunk):
        block = s[start : start + chunk, None, :]  # (c, 1, D)
        log_q = norm - 0.5 * (block - mu[None]) ** 2 * inv_var  # (c, N, D)
        total -= np.sum(_logsumexp(log_q, axis=1) - log_n, axis=0)
    return total / len(s)


def mig_chen_details(
    means: Any,
    log_vars: Any,
    factors: Any,
    *,
    samples: Any = None,
    num_samples: int = 10_000,
    seed: int = 0,
    factor_sizes: Any = None,
) -> dict[str, Any]:
    """MIG by Chen et al.'s estimator with its parts.

    Args:
        means: Posterior means ``(N, D)``; ``D >= 2``.
        log_vars: Posterior log-variances ``(N, D)``.
        factors: Discrete ground-truth factors ``(N, K)``; constant factors are not scored.
        samples: One posterior sample per example ``(N, D)``; default drawn here with ``seed``.
        num_samples: Samples each entropy is estimated on (a random subset when there are more; Chen et al.:
            10,000).
        seed: Seed of the posterior samples and the subsets.
        factor_sizes: Number of values of each factor: normalise by ``log(size)``, a uniform factor's
            entropy, as Chen et al. do on dSprites' full grid (default: the factors' entropy in the sample).

    Returns:
        ``mig``, ``per_factor`` gaps ``(K,)`` (NaN where not scored), the ``mutual_information`` ``(D, K)``,
        the ``marginal_entropy`` ``(D,)``, the ``conditional_entropy`` ``(D, K)``, the factor ``entropy``
        ``(K,)`` and which factors were ``scored``.

    Raises:
        ValueError: On mismatched shapes, fewer than 2 latents, or no factor that varies.
    """
    mu = np.asarray(means, np.float64)
    lv = np.asarray(log_vars, np.float64)
    f = np.asarray(factors)
    f = f[:, None] if f.ndim == 1 else f
    if mu.ndim != 2 or mu.shape[1] < 2:
        raise ValueError(f"means must have shape (N, D >= 2), got {mu.shape}")
    if lv.shape != mu.shape:
        raise ValueError(f"log_vars must have the shape of means {mu.shape}, got {lv.shape}")
    if f.shape[0] != mu.shape[0]:
        raise ValueError(f"means have {mu.shape[0]} rows, factors {f.shape[0]}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    rng = np.random.default_rng(seed)
    z = mu + np.exp(0.5 * lv) * rng.standard_normal(mu.shape) if samples is None else np.asarray(samples, np.float64)
    if z.shape != mu.shape:
        raise ValueError(f"samples must have the shape of means {mu.shape}, got {z.shape}")

    def entropy_of(rows: np.ndarray) -> np.ndarray:
        chosen = rows if len(rows) <= num_samples else rng.choice(rows, num_samples, replace=False)
        return estimate_entropies(z[chosen], mu[rows], lv[rows])

    every = np.arange(len(mu))
    marginal = entropy_of(every)
    entropy = discrete_entropy(f)
    if factor_sizes is not None:
        sizes = np.asarray(factor_sizes, np.float64).reshape(-1)
        if sizes.shape != (f.shape[1],) or np.any(sizes < 1):
            raise ValueError(f"factor_sizes must give one size >= 1 per factor ({f.shape[1]}), got {list(sizes)}")
        entropy = np.where(entropy > 0, np.log(sizes), 0.0)
    scored = entropy > 0
    conditional = np.zeros((mu.shape[1], f.shape[1]))
    for k in np.flatnonzero(scored):
        values, inverse = np.unique(f[:, k], return_inverse=True)
        for v in range(len(values)):
            rows = every[inverse.ravel() == v]
            conditional[:, k] += len(rows) / len(mu) * entropy_of(rows)
    mi = np.maximum(marginal[:, None] - conditional, 0.0)
    mi[:, ~scored] = 0.0
    score, gaps = mig_gaps(mi, entropy)
    return {
        "mig": score,
        "per_factor": gaps,
        "mutual_information": mi,
        "marginal_entropy": marginal,
        "conditional_entropy": conditional,
        "entropy": entropy,
        "scored": scored,
    }


def mig_chen(means: Any, log_vars: Any, factors: Any, *, num_samples: int = 10_000, seed: int = 0) -> float:
    """Chen et al.'s MIG of a Gaussian posterior ``(means, log_vars)`` against ``factors`` (see module doc).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f = rng.integers(0, 4, size=(2000, 2))
        >>> mig_chen(rng.normal(size=(2000, 3)), np.zeros((2000, 3)), f) < 0.05   # unrelated to the factors
        True
    """
    return float(mig_chen_details(means, log_vars, factors, num_samples=num_samples, seed=seed)["mig"])
