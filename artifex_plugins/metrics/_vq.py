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

from artifex_core.evaluation import EvalData, Metric
from artifex_plugins.metrics._contract import CODEBOOK, batched, jitted, latent_type

__all__ = ["CodebookUsage", "code_counts", "codes_used", "normalized_mse", "perplexity"]


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


class CodebookUsage(Metric):
    """Reconstruction NMSE and codebook usage on the test split: ``{"nmse", "perplexity", "codes_used",
    "num_embeddings"}``.

    Applies to models that declare a codebook latent (``latent_type = "codebook"``: ``__call__`` outputs
    ``encoding_indices`` into ``num_embeddings`` codes); reconstructions are ``reconstruct(x, deterministic=True)``.

    Args:
        batch_size: Examples per jitted call.

    Example:
        >>> CodebookUsage(batch_size=10).batch_size
        10
    """

    def __init__(self, *, batch_size: int = 1000) -> None:
        self.batch_size = int(batch_size)

    def applies(self, run: Any) -> bool:
        """The model declares a codebook latent."""
        return latent_type(run.model) == CODEBOOK

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """NMSE of the reconstructions, perplexity and number of the codes used."""
        model, x = run.model, data.x_test
        forward = jitted(model, lambda m, xb: m(xb)["encoding_indices"])
        recon = jitted(model, lambda m, xb: m.reconstruct(xb, deterministic=True))
        indices = np.concatenate([np.asarray(i).reshape(len(i), -1) for i in batched(forward, [x], self.batch_size)])
        x_hat = np.concatenate(batched(recon, [x], self.batch_size))
        num_embeddings = int(model.num_embeddings)
        return {
            "nmse": normalized_mse(x, x_hat),
            "perplexity": perplexity(indices, num_embeddings),
            "codes_used": codes_used(indices),
            "num_embeddings": num_embeddings,
        }
