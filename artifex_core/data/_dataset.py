"""The :class:`Dataset` every loader returns, and the errors loaders raise. NumPy only, no JAX.

Images are stored compactly: ``uint8`` grey levels (0..255) when the source is 8-bit, otherwise
``float32`` in [0, 1]. The :attr:`Dataset.x_train` / :attr:`Dataset.x_test` properties always give
``float32`` in [0, 1] with shape ``(N, H, W, C)`` (or ``(N, D)`` for flat data); the trainer moves the compact
arrays to the device and scales them there.

Example:
    >>> import numpy as np
    >>> x = np.zeros((4, 2, 2), np.uint8)
    >>> ds = Dataset.from_arrays("toy", x, np.arange(4), x[:2], np.array([0, 1]))
    >>> ds.x_train.shape, ds.x_train.dtype, ds.num_classes
    ((4, 2, 2, 1), dtype('float32'), 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["Dataset", "DatasetError", "DatasetUnavailableError", "as_images", "as_labels", "binarize_fixed"]


class DatasetError(ValueError):
    """A dataset that cannot be read: a bad file, wrong shapes or values out of range."""


class DatasetUnavailableError(DatasetError):
    """A dataset that is not installed on this machine; the message says how to install it."""


def as_images(array: Any, what: str = "images") -> np.ndarray:
    """Validate and normalize an image array to ``uint8`` (0..255) or ``float32`` in [0, 1].

    ``(N, H, W)`` gains a channel axis; ``(N, H, W, C)`` and flat ``(N, D)`` are kept. Integer arrays must lie
    in 0..255, float arrays in [0, 1].

    Raises:
        DatasetError: Naming ``what`` and the problem.

    Example:
        >>> as_images(np.full((2, 3, 3), 255)).dtype
        dtype('uint8')
    """
    x = np.asarray(array)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim not in (2, 4):
        raise DatasetError(f"{what}: expected shape (N, H, W), (N, H, W, C) or (N, D), got {x.shape}")
    if x.shape[0] == 0:
        raise DatasetError(f"{what}: no examples")
    if x.dtype == np.bool_:
        return x.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DatasetError(f"{what}: integer pixels must lie in 0..255, got {lo}..{hi}")
        return x.astype(np.uint8, copy=False)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32, copy=False)
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"{what}: contains NaN or infinite values")
        flo, fhi = float(x.min()), float(x.max())
        if flo < 0.0 or fhi > 1.0:
            raise DatasetError(f"{what}: float pixels must lie in [0, 1], got {flo:.4g}..{fhi:.4g}")
        return x
    raise DatasetError(f"{what}: unsupported dtype {x.dtype}")


def as_labels(array: Any, n: int, what: str = "labels") -> np.ndarray:
    """Validate integer class labels: shape ``(n,)``, non-negative; returned as ``int32``.

    Raises:
        DatasetError: Wrong shape, non-integer or negative labels.
    """
    y = np.asarray(array)
    if y.ndim != 1 or y.shape[0] != n:
        raise DatasetError(f"{what}: expected shape ({n},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise DatasetError(f"{what}: must be integers, got {y.dtype}")
    if y.size and int(y.min()) < 0:
        raise DatasetError(f"{what}: must be non-negative")
    return y.astype(np.int32, copy=False)


def _to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1.0 / 255.0)
    return x


def binarize_fixed(x: np.ndarray, seed: int) -> np.ndarray:
    """Seeded Bernoulli binarization: pixel ``p`` becomes 1 with probability ``p``; returns ``uint8`` 0/255.

    The same ``seed`` gives the same bits on every machine (NumPy's PCG64).

    Example:
        >>> x = np.array([[0, 255]], np.uint8)
        >>> binarize_fixed(x, 0).tolist()
        [[0, 255]]
    """
    probs = _to_float(x)
    bits = np.random.default_rng(seed).random(probs.shape, dtype=np.float32) < probs
    return bits.astype(np.uint8) * np.uint8(255)


@dataclass(frozen=True)
class Dataset:
    """Train and test images (and labels) of one dataset, held in host memory.

    Attributes:
        name: Where it came from ("mnist", a file name, ...).
        train_images: ``uint8`` 0..255 or ``float32`` [0, 1]; ``(N, H, W, C)`` or ``(N, D)``.
        train_labels: ``int32`` class labels ``(N,)`` or None.
        test_images: Same layout as ``train_images``.
        test_labels: ``int32`` labels or None.
        num_classes: Number of classes (``max label + 1``) when labelled.
        info: Free-form provenance (source path, license).
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray | None
    test_images: np.ndarray
    test_labels: np.ndarray | None
    num_classes: int | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_arrays(
        cls,
        name: str,
        x_train: Any,
        y_train: Any = None,
        x_test: Any = None,
        y_test: Any = None,
        *,
        info: dict[str, Any] | None = None,
    ) -> Dataset:
        """Validate arrays and build a dataset (labels must be given for both splits or neither).

        Raises:
            DatasetError: Naming the offending array.
        """
        xtr = as_images(x_train, f"{name}: train images")
        if x_test is None:
            raise DatasetError(f"{name}: test images are missing")
        xte = as_images(x_test, f"{name}: test images")
        if xtr.shape[1:] != xte.shape[1:]:
            raise DatasetError(f"{name}: train examples have shape {xtr.shape[1:]}, test examples {xte.shape[1:]}")
        if (y_train is None) != (y_test is None):
            raise DatasetError(f"{name}: give labels for both splits or for neither")
        ytr = None if y_train is None else as_labels(y_train, xtr.shape[0], f"{name}: train labels")
        yte = None if y_test is None else as_labels(y_test, xte.shape[0], f"{name}: test labels")
        num_classes = None
        if ytr is not None and yte is not None:
            num_classes = int(max(ytr.max(initial=0), yte.max(initial=0))) + 1
        return cls(name, xtr, ytr, xte, yte, num_classes, dict(info or {}))

    @property
    def example_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(28, 28, 1)``."""
        return tuple(int(d) for d in self.train_images.shape[1:])

    @property
    def has_labels(self) -> bool:
        """Whether class labels are available (conditional models need them)."""
        return self.train_labels is not None

    @property
    def x_train(self) -> np.ndarray:
        """Training images as ``float32`` in [0, 1]."""
        return _to_float(self.train_images)

    @property
    def x_test(self) -> np.ndarray:
        """Test images as ``float32`` in [0, 1]."""
        return _to_float(self.test_images)

    @property
    def y_train(self) -> np.ndarray | None:
        """Training labels (``int32``) or None."""
        return self.train_labels

    @property
    def y_test(self) -> np.ndarray | None:
        """Test labels (``int32``) or None."""
        return self.test_labels

    def subset(self, limit: int | None) -> Dataset:
        """The first ``limit`` examples of each split (the whole dataset when ``limit`` is None)."""
        if limit is None:
            return self
        if limit <= 0:
            raise DatasetError(f"limit must be positive, got {limit}")

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[:limit]

        return replace(
            self,
            train_images=self.train_images[:limit],
            train_labels=cut(self.train_labels),
            test_images=self.test_images[:limit],
            test_labels=cut(self.test_labels),
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: name, sizes, example shape, classes, provenance."""
        return {
            "name": self.name,
            "train_size": int(self.train_images.shape[0]),
            "test_size": int(self.test_images.shape[0]),
            "example_shape": list(self.example_shape),
            "num_classes": self.num_classes,
            **self.info,
        }
