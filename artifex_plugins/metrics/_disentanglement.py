"""Disentanglement metrics on latent codes with known ground-truth factors: MIG and the FactorVAE metric.

**MIG** (Chen et al. 2018): discretise each latent dimension into equal-width bins, estimate the mutual
information ``I(z_j; v_k)`` between every latent ``j`` and factor ``k``, and average over factors the gap
between the two most informative latents, normalised by the factor's entropy:
``MIG = mean_k (I(z_(1); v_k) - I(z_(2); v_k)) / H(v_k)``. Perfectly factorised codes score near 1, codes
unrelated to the factors near 0. This follows disentanglement_lib's estimator (posterior means of about
10,000 examples, 20 bins); a factor with more values than bins cannot reach 1.

**FactorVAE metric** (Kim & Mnih 2018): fix one factor at a random value, draw a batch with the others
random, normalise the codes by their global standard deviation, and vote for the latent of least variance;
a majority-vote classifier from that latent to the fixed factor is scored on fresh votes. Perfect codes score
1; codes unrelated to the factors score chance, ``1 / K`` for ``K`` factors.

Example:
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(2000, 2))
    >>> mig(factors[:, ::-1].astype(float), factors) > 0.99  # each latent copies one factor
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "discrete_entropy",
    "discrete_mutual_information",
    "discretize",
    "factor_vae_details",
    "factor_vae_score",
    "mig",
    "mig_details",
    "mig_gaps",
]


def discretize(codes: Any, num_bins: int = 20) -> np.ndarray:
    """Bin each column of ``codes`` ``(N, D)`` into ``num_bins`` equal-width bins: ``(N, D)`` ints in ``[0, num_bins)``.

    Example:
        >>> discretize(np.array([[0.0], [0.5], [1.0]]), num_bins=2).ravel().tolist()
        [0, 1, 1]
    """
    c = np.asarray(codes, np.float64)
    if c.ndim != 2:
        raise ValueError(f"codes must have shape (N, D), got {c.shape}")
    if num_bins < 1:
        raise ValueError(f"num_bins must be positive, got {num_bins}")
    out = np.zeros(c.shape, np.int64)
    for j in range(c.shape[1]):
        lo, hi = c[:, j].min(), c[:, j].max()
        if hi > lo:
            out[:, j] = np.minimum(((c[:, j] - lo) / (hi - lo) * num_bins).astype(np.int64), num_bins - 1)
    return out


def _codes(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Relabel a column to 0..m-1; returns the labels and m."""
    values, inverse = np.unique(labels, return_inverse=True)
    return inverse.ravel(), len(values)


def discrete_entropy(factors: Any) -> np.ndarray:
    """Entropy in nats of each column of discrete ``factors`` ``(N, K)``: ``(K,)``.

    Example:
        >>> round(float(discrete_entropy(np.array([[0], [1], [2], [3]]))[0]), 4)  # log 4
        1.3863
    """
    f = np.asarray(factors)
    if f.ndim == 1:
        f = f[:, None]
    out = np.zeros(f.shape[1])
    for k in range(f.shape[1]):
        counts = np.bincount(_codes(f[:, k])[0]).astype(np.float64)
        p = counts / counts.sum()
        out[k] = -np.sum(p * np.log(p))
    return out


def discrete_mutual_information(a: Any, b: Any) -> np.ndarray:
    """Mutual information in nats between each column of ``a`` ``(N, D)`` and of ``b`` ``(N, K)``: ``(D, K)``.

    Both are discrete (integers or any values, compared for equality); the plug-in estimator from the
    contingency table.

    Example:
        >>> x = np.array([[0], [0], [1], [1]])
        >>> round(float(discrete_mutual_information(x, x)[0, 0]), 4)  # = H(x) = log 2
        0.6931
    """
    a, b = np.asarray(a), np.asarray(b)
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"a has {a.shape[0]} rows, b {b.shape[0]}")
    n = a.shape[0]
    out = np.zeros((a.shape[1], b.shape[1]))
    b_codes = [_codes(b[:, k]) for k in range(b.shape[1])]
    for j in range(a.shape[1]):
        aj, ma = _codes(a[:, j])
        pa = np.bincount(aj, minlength=ma) / n
        for k, (bk, mb) in enumerate(b_codes):
            joint = np.bincount(aj * mb + bk, minlength=ma * mb).reshape(ma, mb) / n
            pb = joint.sum(axis=0)
            nz = joint > 0
            out[j, k] = np.sum(joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz]))
    return np.maximum(out, 0.0)


def mig_gaps(mutual_information: np.ndarray, entropy: np.ndarray) -> tuple[float, np.ndarray]:
    """MIG from ``I(z_j; v_k)`` ``(D, K)`` and the factors' entropies ``H(v_k)`` ``(K,)``: ``(mig, per_factor)``.

    Each factor's gap is ``(I_(1) - I_(2)) / H(v_k)``, the two largest mutual informations of its column
    normalised by its entropy; ``mig`` is their mean over the factors with ``H(v_k) > 0`` (the others are not
    scored: gap NaN). Both MIG estimators (:func:`mig_details`, Chen et al.'s
    :func:`~artifex_plugins.metrics._mig_chen.mig_chen_details`) end here.

    Raises:
        ValueError: If no factor has positive entropy.

    Example:
        >>> mi = np.array([[0.75, 0.0], [0.25, 0.5], [0.0, 0.0]])
        >>> score, gaps = mig_gaps(mi, np.array([2.0, 0.0]))   # (0.75 - 0.25) / 2; factor 1 constant
        >>> score, gaps.tolist()
        (0.25, [0.25, nan])
    """
    scored = entropy > 0
    if not scored.any():
        raise ValueError("no factor varies across the examples")
    top2 = -np.sort(-mutual_information, axis=0)[:2]
    gaps = np.full(mutual_information.shape[1], np.nan)
    gaps[scored] = (top2[0, scored] - top2[1, scored]) / entropy[scored]
    return float(np.mean(gaps[scored])), gaps


def mig_details(codes: Any, factors: Any, *, num_bins: int = 20) -> dict[str, Any]:
    """MIG with its parts: ``mig``, ``per_factor`` gaps, the ``mutual_information`` matrix ``(D, K)``,
    the factor ``entropy`` ``(K,)`` and which factors were ``scored``.

    Args:
        codes: Latent codes ``(N, D)`` (posterior means); ``D >= 2``.
        factors: Ground-truth discrete factors ``(N, K)`` (class indices or values).
        num_bins: Equal-width bins per latent dimension.

    Factors that are constant in the sample (zero entropy) are not scored (their gap is NaN).

    Raises:
        ValueError: On mismatched rows, fewer than 2 latents, or no factor that varies.
    """
    c = np.asarray(codes, np.float64)
    f = np.asarray(factors)
    f = f[:, None] if f.ndim == 1 else f
    if c.ndim != 2 or c.shape[1] < 2:
        raise ValueError(f"codes must have shape (N, D >= 2), got {c.shape}")
    if c.shape[0] != f.shape[0]:
        raise ValueError(f"codes have {c.shape[0]} rows, factors {f.shape[0]}")
    mi = discrete_mutual_information(discretize(c, num_bins), f)
    entropy = discrete_entropy(f)
    score, gaps = mig_gaps(mi, entropy)
    return {
        "mig": score,
        "per_factor": gaps,
        "mutual_information": mi,
        "entropy": entropy,
        "scored": entropy > 0,
    }


def mig(codes: Any, factors: Any, *, num_bins: int = 20) -> float:
    """Mutual Information Gap (Chen et al. 2018) of ``codes`` ``(N, D)`` against ``factors`` ``(N, K)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f = rng.integers(0, 4, size=(5000, 2))
        >>> mig(rng.normal(size=(5000, 3)), f) < 0.05  # codes unrelated to the factors
        True
    """
    return float(mig_details(codes, factors, num_bins=num_bins)["mig"])


def _sample_factors(rng: np.random.Generator, sizes: np.ndarray, n: int) -> np.ndarray:
    return rng.integers(0, sizes, size=(n, len(sizes)))


def _votes(
    representation_fn: Callable[[np.ndarray], Any],
    sizes: np.ndarray,
    scale: np.ndarray,
    active: np.ndarray,
    rng: np.random.Generator,
    num_points: int,
    batch_size: int,
) -> np.ndarray:
    """``(D, K)`` counts of (least-variance latent, fixed factor) over ``num_points`` batches."""
    varying = np.flatnonzero(sizes > 1)
    votes = np.zeros((len(scale), len(sizes)), np.int64)
    active_idx = np.flatnonzero(active)
    for _ in range(num_points):
        k = int(rng.choice(varying))
        factors = _sample_factors(rng, sizes, batch_size)
        factors[:, k] = factors[0, k]
        codes = np.asarray(representation_fn(factors), np.float64).reshape(batch_size, -1)
        variances = np.var(codes[:, active] / scale[active], axis=0, ddof=1)
        votes[active_idx[int(np.argmin(variances))], k] += 1
    return votes


def factor_vae_details(
    representation_fn: Callable[[np.ndarray], Any],
    factor_sizes: Sequence[int],
    *,
    seed: int = 0,
    batch_size: int = 64,
    num_train: int = 800,
    num_eval: int = 800,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
) -> dict[str, Any]:
    """FactorVAE metric with its parts: ``eval_accuracy``, ``train_accuracy``, ``num_active_dims``, ``votes``.

    Args:
        representation_fn: Maps factor class indices ``(n, K)`` (ints, ``0 <= v_k < factor_sizes[k]``) to
            codes ``(n, D)``; typically render the observations, then take the encoder's means
            (for dSprites: ``lambda f: encode_means(enc, render_dsprites(f))``).
        factor_sizes: Number of values of each factor; factors of size 1 are never fixed.
        seed: Seed of the factor sampling.
        batch_size: Observations per vote (Kim & Mnih: 64).
        num_train: Votes that fit the majority-vote classifier.
        num_eval: Fresh votes it is scored on.
        num_variance_estimate: Random observations for the global per-latent standard deviation.
        prune_threshold: Latents whose global standard deviation is below this (collapsed dimensions)
            never receive votes, as in disentanglement_lib; with none left the score is 0.

    Raises:
        ValueError: If no factor has more than one value, or on bad sizes.
    """
    sizes = np.asarray(factor_sizes, np.int64)
    if sizes.ndim != 1 or np.any(sizes < 1) or not np.any(sizes > 1):
        raise ValueError(f"factor_sizes must be positive with at least one factor > 1, got {list(factor_sizes)}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be at least 2, got {batch_size}")
    rng = np.random.default_rng(seed)
    sample = np.asarray(representation_fn(_sample_factors(rng, sizes, num_variance_estimate)), np.float64)
    sample = sample.reshape(num_variance_estimate, -1)
    global_var = sample.var(axis=0, ddof=1)
    active = (global_var > 0) & (np.sqrt(global_var) >= prune_threshold)
    if not active.any():
        return {"eval_accuracy": 0.0, "train_accuracy": 0.0, "num_active_dims": 0, "votes": None}
    scale = np.sqrt(np.where(global_var > 0, global_var, 1.0))
    train = _votes(representation_fn, sizes, scale, active, rng, num_train, batch_size)
    evaluation = _votes(representation_fn, sizes, scale, active, rng, num_eval, batch_size)
    classifier = np.argmax(train, axis=1)  # latent -> factor
    train_acc = float(np.sum(train.max(axis=1)) / max(train.sum(), 1))
    eval_acc = float(np.sum(evaluation[np.arange(len(classifier)), classifier]) / max(evaluation.sum(), 1))
    return {
        "eval_accuracy": eval_acc,
        "train_accuracy": train_acc,
        "num_active_dims": int(active.sum()),
        "votes": train,
    }


def factor_vae_score(
    representation_fn: Callable[[np.ndarray], Any],
    factor_sizes: Sequence[int],
    *,
    seed: int = 0,
    batch_size: int = 64,
    num_train: int = 800,
    num_eval: int = 800,
    num_variance_estimate: int = 10_000,
) -> float:
    """FactorVAE disentanglement metric (Kim & Mnih 2018): the majority-vote classifier's eval accuracy.

    Arguments as :func:`factor_vae_details`.

    Example:
        >>> sizes = (3, 4)
        >>> perfect = lambda f: np.asarray(f, float)  # latent k is factor k
        >>> factor_vae_score(perfect, sizes, num_train=50, num_eval=50, num_variance_estimate=500)
        1.0
    """
    return float(
        factor_vae_details(
            representation_fn,
            factor_sizes,
            seed=seed,
            batch_size=batch_size,
            num_train=num_train,
            num_eval=num_eval,
            num_variance_estimate=num_variance_estimate,
        )["eval_accuracy"]
    )
