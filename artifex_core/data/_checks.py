"""Host-side checks of training data, run by the trainer before the first step. NumPy only, no JAX.

Inside a jitted step a bad label cannot raise (the conditional model turns it into NaN) and a NaN pixel
only shows up as a NaN loss many steps later, so :func:`check_training_data` looks at the whole dataset
once, vectorised (MNIST's 70k images take milliseconds), and raises :class:`TrainingDataError` with one
line naming the split, the index and the bad value.

Example:
    >>> import numpy as np
    >>> from artifex_core.data._dataset import Dataset
    >>> ds = Dataset("toy", np.zeros((3, 2, 2, 1), np.uint8), np.array([0, 1, 12]),
    ...              np.zeros((1, 2, 2, 1), np.uint8), np.array([0]))
    >>> check_training_data(ds, num_classes=10, conditional=True)
    Traceback (most recent call last):
    ...
    artifex_core.data._checks.TrainingDataError: toy: train label 12 at index 2 is outside [0, 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artifex_core.data._dataset import DatasetError

__all__ = ["TrainingDataError", "check_training_data"]


class TrainingDataError(DatasetError):
    """Training data that would make a run fail or silently learn the wrong thing."""


def _images(images: Any, where: str) -> np.ndarray:
    x = images if isinstance(images, np.ndarray) else _stack(images, where)
    if x.dtype == object:
        raise TrainingDataError(f"{where} images have inconsistent shapes (an object array)")
    if x.ndim < 2 or x.shape[0] == 0:
        raise TrainingDataError(f"{where} images: expected a non-empty batch (N, ...), got shape {x.shape}")
    return x


def _stack(images: Any, where: str) -> np.ndarray:
    """A sequence of examples as one array, naming the first example whose shape differs from the first."""
    items = list(images)
    shapes = [np.shape(item) for item in items]
    for index, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise TrainingDataError(
                f"{where} image at index {index} has shape {shape}, the first has shape {shapes[0]}"
            )
    return np.asarray(items)


def _check_finite(x: np.ndarray, where: str) -> None:
    if not np.issubdtype(x.dtype, np.inexact):
        return
    if np.isfinite(x.min()) and np.isfinite(x.max()):  # two fast reductions; NaN and inf propagate
        return
    per_example = np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)
    index = int(np.argmin(per_example))
    kind = "NaN" if np.isnan(x[index]).any() else "infinite values"
    raise TrainingDataError(f"{where} image at index {index} contains {kind}")


def _check_labels(labels: Any, n_images: int, num_classes: int | None, where: str) -> None:
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer):
        raise TrainingDataError(f"{where} labels must be integers, got dtype {y.dtype}")
    if y.ndim != 1:
        raise TrainingDataError(f"{where} labels must have shape (N,), got {y.shape}")
    if y.shape[0] != n_images:
        raise TrainingDataError(f"{where} has {y.shape[0]} labels for {n_images} images")
    bad = np.flatnonzero((y < 0) if num_classes is None else (y < 0) | (y >= num_classes))
    if bad.size:
        index = int(bad[0])
        rule = "is negative" if num_classes is None else f"is outside [0, {num_classes})"
        raise TrainingDataError(f"{where} label {int(y[index])} at index {index} {rule}")


def check_training_data(dataset: Any, *, num_classes: int | None, conditional: bool) -> None:
    """Check a dataset on the host before training; raise one clear line for the first problem found.

    Checked, for the train and the test split: images form one non-empty array and both splits have the
    same example shape; floating images hold no NaN or inf; labels (when present) are integers, one per
    image, and lie in ``[0, num_classes)`` (non-negative when ``num_classes`` is None). A conditional
    model needs labels on both splits and a ``num_classes`` (``dataset.num_classes`` when None).

    Args:
        dataset: A :class:`~artifex_core.data.Dataset` (or anything with ``name``, ``train_images``,
            ``test_images``, ``train_labels``, ``test_labels`` and optionally ``num_classes``).
        num_classes: Number of classes the model is built for, or None.
        conditional: Whether the model is conditioned on the labels.

    Raises:
        TrainingDataError: A :class:`~artifex_core.data.DatasetError` naming the dataset, the split,
            the index and the bad value.

    Example:
        >>> import numpy as np
        >>> from artifex_core.data._dataset import Dataset
        >>> x = np.zeros((4, 2, 2, 1), np.float32)
        >>> ds = Dataset("toy", x, np.array([0, 1, 2, 1]), x[:2], np.array([0, 2]), num_classes=3)
        >>> check_training_data(ds, num_classes=3, conditional=True)  # passes silently
        >>> x[1, 0, 0, 0] = np.nan
        >>> check_training_data(ds, num_classes=None, conditional=False)
        Traceback (most recent call last):
        ...
        artifex_core.data._checks.TrainingDataError: toy: train image at index 1 contains NaN
    """
    name = getattr(dataset, "name", "dataset")
    splits = [("train", dataset.train_images, dataset.train_labels)]
    if getattr(dataset, "test_images", None) is not None:
        splits.append(("test", dataset.test_images, getattr(dataset, "test_labels", None)))
    if conditional:
        num_classes = num_classes if num_classes is not None else getattr(dataset, "num_classes", None)
        if num_classes is None:
            raise TrainingDataError(f"{name}: a conditional model needs num_classes (the dataset has no labels)")
        missing = [split for split, _, labels in splits if labels is None]
        if missing:
            raise TrainingDataError(f"{name}: a conditional model needs labels, the {missing[0]} split has none")
    example_shape: tuple[int, ...] | None = None
    for split, images, labels in splits:
        where = f"{name}: {split}"
        x = _images(images, where)
        if example_shape is not None and x.shape[1:] != example_shape:
            raise TrainingDataError(
                f"{name}: test examples have shape {x.shape[1:]}, train examples {example_shape}"
            )
        example_shape = x.shape[1:]
        _check_finite(x, where)
        if labels is not None:
            _check_labels(labels, x.shape[0], num_classes, where)
