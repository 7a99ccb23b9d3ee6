"""Data: the :class:`Dataset`, loaders for your own files (``.npz``, image folders) and the device pipeline.

Loaders return a :class:`Dataset` (NumPy, no JAX). They are registered by name in the ``datasets`` registry
by plugins (the built-in plugin registers ``mnist`` and ``fashion_mnist``, see :mod:`artifex_plugins.data`,
and these two for your own files):

- ``npz``: ``artifex_core.data._files:load_npz(path, *, test_fraction=0.1, seed=0)``
- ``image_folder``: ``artifex_core.data._files:load_image_folder(path, *, image_size=None, grayscale=None,
  test_fraction=0.1, seed=0)``

A plugin adds a dataset by registering any callable returning a :class:`Dataset`.
A pack (``artifex data pack SRC DEST``, :func:`pack_dataset`) holds a dataset as memory-mapped ``.npy`` files
that :func:`load_pack` opens without reading them; the trainer streams such data from the host
(:class:`HostFeeder`) when they do not fit on the devices (:func:`choose_placement`).
The JAX side (:mod:`artifex_core.data._pipeline`, :mod:`artifex_core.data._feeding`) is imported lazily.

Example:
    >>> import numpy as np
    >>> ds = Dataset.from_arrays("toy", np.zeros((8, 2, 2), np.uint8), None, np.zeros((4, 2, 2), np.uint8), None)
    >>> ds.x_test.shape, ds.has_labels
    ((4, 2, 2, 1), False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artifex_core.data._checks import TrainingDataError, check_training_data
from artifex_core.data._dataset import Dataset, DatasetError, DatasetUnavailableError, binarize_fixed
from artifex_core.data._files import load_image_folder, load_npz
from artifex_core.data._loading import is_dataset_path, load_dataset
from artifex_core.data._packed import is_pack, load_pack, pack_dataset, verify_pack, write_pack
from artifex_core.data._placement import choose_placement, split_bytes

if TYPE_CHECKING:
    from artifex_core.data._feeding import HostFeeder, local_rows
    from artifex_core.data._pipeline import (
        DeviceSplit,
        dynamic_binarize,
        epoch_permutation,
        gather_batch,
        host_splits,
        put_split,
        to_float,
    )

__all__ = [
    "Dataset",
    "DatasetError",
    "DatasetUnavailableError",
    "DeviceSplit",
    "HostFeeder",
    "TrainingDataError",
    "binarize_fixed",
    "check_training_data",
    "choose_placement",
    "dynamic_binarize",
    "epoch_permutation",
    "gather_batch",
    "host_splits",
    "is_dataset_path",
    "is_pack",
    "load_dataset",
    "load_image_folder",
    "load_npz",
    "load_pack",
    "local_rows",
    "pack_dataset",
    "put_split",
    "split_bytes",
    "to_float",
    "verify_pack",
    "write_pack",
]

_LAZY = {"DeviceSplit", "dynamic_binarize", "epoch_permutation", "gather_batch", "host_splits", "put_split", "to_float"}
_FEEDING = {"HostFeeder", "local_rows"}


def __getattr__(name: str) -> Any:
    if name in _FEEDING:
        from artifex_core.data import _feeding as feeding

        return getattr(feeding, name)
    if name in _LAZY:
        from artifex_core.data import _pipeline as pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
