"""MNIST, shipped inside the package: 60,000 training and 10,000 test digits (LeCun, Cortes and Burges).

The four IDX files next to this module are the original MNIST files (see ``README.md`` here for their
provenance and attribution, CC BY-SA 3.0). They are read with NumPy, never downloaded; the decoded arrays
are cached as an uncompressed ``.npz`` under the artifex cache folder so later runs start faster.

Example:
    >>> ds = load_mnist()
    >>> ds.train_images.shape, ds.test_images.shape, ds.num_classes
    ((60000, 28, 28, 1), (10000, 28, 28, 1), 10)
"""

from __future__ import annotations

import hashlib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from artifex_core.data._cache import cache_dir, load_cached_arrays, save_cached_arrays
from artifex_core.data._dataset import Dataset, DatasetError
from artifex_plugins.data._idx import read_idx

__all__ = ["FILES", "load_idx_dataset", "load_mnist"]

FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def load_idx_dataset(name: str, folder: Path, *, info: dict[str, str] | None = None) -> Dataset:
    """Build a :class:`Dataset` from the four MNIST-layout IDX files in ``folder``.

    Accepts the files with or without the ``.gz`` suffix.

    Raises:
        DatasetError: A file is missing or malformed.
    """
    arrays = {}
    for key, filename in FILES.items():
        path = folder / filename
        if not path.is_file() and (folder / filename.removesuffix(".gz")).is_file():
            path = folder / filename.removesuffix(".gz")
        arrays[key] = read_idx(path)
    return _from(name, arrays, info)


def _from(name: str, arrays: dict[str, np.ndarray], info: dict[str, str] | None) -> Dataset:
    x_train, y_train, x_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    return Dataset.from_arrays(name, x_train, y_train, x_test, y_test, info=info)


def _fingerprint(root: Traversable) -> str:
    h = hashlib.sha256()
    for filename in FILES.values():
        h.update((root / filename).read_bytes())
    return h.hexdigest()[:16]


def load_mnist(*, cache: bool = True) -> Dataset:
    """Load the packaged MNIST: ``uint8`` images ``(N, 28, 28, 1)`` and ``int32`` labels, 10 classes.

    Args:
        cache: Keep the decoded arrays in ``<cache>/datasets/mnist-<hash>.npz`` and reuse them.

    Returns:
        The dataset; ``x_train``/``x_test`` give ``float32`` in [0, 1].

    Raises:
        DatasetError: If the packaged files are missing (a broken installation).
    """
    root = resources.files(__name__)
    missing = [f for f in FILES.values() if not (root / f).is_file()]
    if missing:
        raise DatasetError(f"the packaged MNIST files are missing ({', '.join(missing)}); reinstall artifex-vae")
    info = {
        "source": "packaged IDX files (artifex_plugins/data/mnist)",
        "license": "CC BY-SA 3.0, LeCun, Cortes and Burges",
    }
    cached_path = cache_dir("datasets", f"mnist-{_fingerprint(root)}.npz") if cache else None
    if cached_path is not None:
        arrays = load_cached_arrays(cached_path)
        if arrays is not None and set(arrays) == set(FILES):
            return _from("mnist", arrays, info)
    arrays = {}
    for key, filename in FILES.items():
        with (root / filename).open("rb") as stream:
            arrays[key] = read_idx(stream, gz=True)
    ds = _from("mnist", arrays, info)
    if cached_path is not None:
        save_cached_arrays(cached_path, {k: np.asarray(v) for k, v in arrays.items()})
    return ds
