"""Fashion-MNIST (Zalando Research, MIT) read from Debian's ``dataset-fashion-mnist`` package.

The package installs the four IDX files under ``/usr/share/datasets/fashion-mnist/``. Nothing is downloaded:
when they are missing the error says how to install them.

Example:
    >>> try:
    ...     ds = load_fashion_mnist(root="/nonexistent")
    ... except DatasetUnavailableError as exc:
    ...     print(str(exc).split(";")[0])
    Fashion-MNIST not found in '/nonexistent'
"""

from __future__ import annotations

from pathlib import Path

from artifex_core.data._dataset import Dataset, DatasetUnavailableError
from artifex_plugins.data._mnist import FILES, load_idx_dataset

__all__ = ["DEFAULT_ROOT", "load_fashion_mnist"]

DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def load_fashion_mnist(*, root: str | Path = DEFAULT_ROOT) -> Dataset:
    """Load Fashion-MNIST: ``uint8`` images ``(N, 28, 28, 1)`` (60,000 / 10,000) and 10 classes.

    Args:
        root: Folder holding the four IDX files (``.gz`` or not).

    Raises:
        DatasetUnavailableError: The files are not there; the message names ``apt-get install dataset-fashion-mnist``.
        DatasetError: A file is malformed.
    """
    folder = Path(root)
    present = [f for f in FILES.values() if (folder / f).is_file() or (folder / f.removesuffix(".gz")).is_file()]
    if len(present) < len(FILES):
        raise DatasetUnavailableError(
            f"Fashion-MNIST not found in {str(folder)!r}; install Debian's package with "
            "`sudo apt-get install dataset-fashion-mnist` (or pass root= the folder holding its four IDX files)"
        )
    info = {"source": str(folder), "license": "MIT, Zalando Research", "classes": ", ".join(CLASSES)}
    return load_idx_dataset("fashion_mnist", folder, info=info)
