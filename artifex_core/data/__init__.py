"""Data sources: built-in MNIST, Fashion-MNIST, your own ``.npz`` or image folder, and the device pipeline.

Loaders return a :class:`Dataset` (NumPy, no JAX). They are registered by name in the ``datasets`` registry:

- ``mnist``: ``artifex_core.data.mnist:load_mnist(*, cache=True)``
- ``fashion_mnist``: ``artifex_core.data.fashion_mnist:load_fashion_mnist(*, root="/usr/share/datasets/fashion-mnist")``
- ``npz``: ``artifex_core.data.files:load_npz(path, *, test_fraction=0.1, seed=0)``
- ``image_folder``: ``artifex_core.data.files:load_image_folder(path, *, image_size=None, grayscale=None,
  test_fraction=0.1, seed=0)``

A plugin adds a dataset by registering any callable returning a :class:`Dataset`.
The JAX side (:mod:`artifex_core.data.pipeline`) is imported lazily.

Example:
    >>> from artifex_core.data import load_dataset
    >>> ds = load_dataset("mnist", limit=10)
    >>> ds.x_test.shape, float(ds.x_test.max()) <= 1.0
    ((10, 28, 28, 1), True)
"""

from __future__ import annotations

from typing import Any

from artifex_core.data.checks import TrainingDataError, check_training_data
from artifex_core.data.dataset import Dataset, DatasetError, DatasetUnavailableError, binarize_fixed
from artifex_core.data.fashion_mnist import load_fashion_mnist
from artifex_core.data.files import load_image_folder, load_npz
from artifex_core.data.loading import is_dataset_path, load_dataset
from artifex_core.data.mnist import load_mnist

__all__ = [
    "BUILTIN_DATASETS",
    "Dataset",
    "DatasetError",
    "DatasetUnavailableError",
    "DeviceSplit",
    "TrainingDataError",
    "binarize_fixed",
    "check_training_data",
    "dynamic_binarize",
    "epoch_permutation",
    "gather_batch",
    "host_splits",
    "is_dataset_path",
    "load_dataset",
    "load_fashion_mnist",
    "load_image_folder",
    "load_mnist",
    "load_npz",
    "put_split",
]

BUILTIN_DATASETS: dict[str, tuple[str, str]] = {
    "mnist": ("artifex_core.data.mnist:load_mnist", "MNIST digits, 60k/10k, shipped in the package"),
    "fashion_mnist": (
        "artifex_core.data.fashion_mnist:load_fashion_mnist",
        "Fashion-MNIST from Debian's dataset-fashion-mnist",
    ),
    "npz": ("artifex_core.data.files:load_npz", "Your .npz file (x_train/x_test or x, optional labels)"),
    "image_folder": ("artifex_core.data.files:load_image_folder", "Your folder of images (one sub-folder per class)"),
}
"""name -> (lazy "module:attr" target, summary): what the built-in plugin registers."""

_LAZY = {"DeviceSplit", "dynamic_binarize", "epoch_permutation", "gather_batch", "host_splits", "put_split"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from artifex_core.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
