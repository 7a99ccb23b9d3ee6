"""The built-in plugin's datasets: the packaged MNIST and Debian's Fashion-MNIST (NumPy only, no JAX).

Registered by :mod:`artifex_plugins.plugin` in the ``datasets`` registry, as any plugin's datasets are:

- ``mnist``: :func:`~artifex_plugins.data.mnist.load_mnist` ``(*, cache=True)``;
- ``fashion_mnist``: :func:`~artifex_plugins.data.fashion_mnist.load_fashion_mnist`
  ``(*, root="/usr/share/datasets/fashion-mnist")``.

Your own files (``.npz``, image folders) load through :mod:`artifex_core.data`.

Example:
    >>> from artifex_core.data import load_dataset
    >>> ds = load_dataset("mnist", limit=10)
    >>> ds.x_test.shape, float(ds.x_test.max()) <= 1.0
    ((10, 28, 28, 1), True)
"""

from __future__ import annotations

from artifex_plugins.data.fashion_mnist import load_fashion_mnist
from artifex_plugins.data.idx import parse_idx, read_idx
from artifex_plugins.data.mnist import load_idx_dataset, load_mnist

__all__ = ["load_fashion_mnist", "load_idx_dataset", "load_mnist", "parse_idx", "read_idx"]
