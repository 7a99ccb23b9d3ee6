"""Metrics for vector-quantised models: normalised reconstruction error and codebook usage.

Example:
    >>> import numpy as np
    >>> idx = np.array([0, 1, 2, 3])
    >>> round(perplexity(idx, 8), 6), codes_used(idx)
    (4.0, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["code_counts", "codes_used", "normalized_mse", "perplexity"]


def normalized_mse(x: Any, x_hat: Any) -> float:
    """``sum (x - x_hat)^2 / sum (x - mean(x))^2``: squared error relative to the data's total variance.

    0 is a perfect reconstruction; predicting the data's global mean everywhere scores 1.

    Raises:
        ValueError: On mismatched sizes or constant data (zero variance).

    Example:
        >>> x = np.array([0.0, 1.0, 2.0, 3.0])
        >>> normalized_mse(x, np.full(4, x.mean()))
        1.0
    """
    a = np.asarray(x, np.float64)
    b = np.asarray(x_hat, np.float64)
    if a.size != b.size:
        raise ValueError(f"x has {a.size} values, x_hat {b.size}")
    b = b.reshape(a.shape)
    denominator = float(np.sum(np.square(a - a.mean())))
    if denominator == 0.0:
        raise ValueError("normalized_mse is undefined for constant data (zero variance)")
    return float(np.sum(np.square(a - b)) / denominator)


def _indices(indices: Any) -> np.ndarray:
    idx = np.asarray(indices).ravel()
    if idx.size == 0:
        raise ValueError("no code indices")
    if not np.issubdtype(idx.dtype, np.integer):
        if np.all(np.mod(idx, 1) == 0):
            idx = idx.astype(np.int64)
        else:
            raise ValueError(f"code indices must be integers, got {idx.dtype}")
    if idx.min() < 0:
        raise ValueError("code indices must be non-negative")
    return idx


def code_counts(indices: Any, num_embeddings: int) -> np.ndarray:
    """How often each of the ``num_embeddings`` codes is used: ``(num_embeddings,)`` ``int64``.

    ``indices`` may have any shape (e.g. ``(B, H, W)`` for spatial latents).

    Raises:
        ValueError: If an index is ``>= num_embeddings`` or negative.

    Example:
        >>> code_counts(np.array([[0, 2], [2, 2]]), 4).tolist()
        [1, 0, 3, 0]
    """
    idx = _indices(indices)
    if idx.max() >= num_embeddings:
        raise ValueError(f"code index {int(idx.max())} out of range for {num_embeddings} embeddings")
    return np.bincount(idx, minlength=num_embeddings).astype(np.int64)


def perplexity(indices: Any, num_embeddings: int) -> float:
    """``exp(H(p))`` of the empirical code distribution ``p``: the effective number of codes used.

    Uniform use of ``m`` codes gives ``m``; a single code gives 1.

    Example:
        >>> perplexity(np.array([3, 3, 3]), 8)
        1.0
    """
    counts = code_counts(indices, num_embeddings).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def codes_used(indices: Any) -> int:
    """Number of distinct codes in ``indices``.

    Example:
        >>> codes_used(np.array([5, 1, 5, 7]))
        3
    """
    return int(np.unique(_indices(indices)).size)
