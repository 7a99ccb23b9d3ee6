"""The built-in plugin's datasets (NumPy only, no JAX), registered in the ``datasets`` registry by
:mod:`artifex_plugins.plugin`, as any plugin's datasets are:

- ``mnist``: :func:`~artifex_plugins.data.load_mnist` ``(*, cache=True)``, shipped in the package;
- ``fashion_mnist``: :func:`~artifex_plugins.data.load_fashion_mnist`
  ``(*, root="/usr/share/datasets/fashion-mnist")``;
- ``dsprites``: procedural dSprites (:mod:`artifex_plugins.data._dsprites`).

Your own files (``.npz``, image folders) load through :mod:`artifex_core.data`.

Example:
    >>> from artifex_core.data import load_dataset
    >>> ds = load_dataset("mnist", limit=10)
    >>> ds.x_test.shape, float(ds.x_test.max()) <= 1.0
    ((10, 28, 28, 1), True)
    >>> load_dsprites(4, cache=False).images.shape
    (4, 64, 64, 1)
"""

from __future__ import annotations

from artifex_plugins.data._dsprites import (
    FACTOR_NAMES,
    FACTOR_SIZES,
    IMAGE_SIZE,
    NUM_IMAGES,
    DSprites,
    classes_to_indices,
    factor_values,
    indices_to_classes,
    load_dsprites,
    load_dsprites_dataset,
    render_dsprites,
    sample_factors,
)
from artifex_plugins.data._fashion_mnist import DEFAULT_ROOT, load_fashion_mnist
from artifex_plugins.data._idx import parse_idx, read_idx
from artifex_plugins.data._mnist import load_idx_dataset, load_mnist

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "IMAGE_SIZE",
    "NUM_IMAGES",
    "DEFAULT_ROOT",
    "DSprites",
    "classes_to_indices",
    "factor_values",
    "indices_to_classes",
    "load_dsprites",
    "load_dsprites_dataset",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
    "parse_idx",
    "read_idx",
    "render_dsprites",
    "sample_factors",
]
