"""Find a dataset by registered name or by path, and load it.

Registered names come from the ``datasets`` registry (the built-in plugin: ``mnist``, ``fashion_mnist``, ``npz``,
``image_folder``; plugins add more). A path to a ``.npz`` file or to a folder of images loads that file; a
pack made by ``artifex data pack`` is opened memory-mapped (:func:`~artifex_core.data.load_pack`).

Example:
    >>> ds = load_dataset("mnist", limit=100)
    >>> ds.train_images.shape
    (100, 28, 28, 1)
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from artifex_core.data._dataset import Dataset, DatasetError

__all__ = ["is_dataset_path", "load_dataset"]


def is_dataset_path(spec: str) -> bool:
    """Whether ``spec`` names a file or folder rather than a registered dataset."""
    return spec.endswith(".npz") or "/" in spec or "\\" in spec or spec.startswith(".") or Path(spec).exists()


def _call(loader: Any, name: str, kwargs: dict[str, Any]) -> Any:
    try:
        sig = inspect.signature(loader)
    except (TypeError, ValueError):
        return loader(**kwargs)
    params = sig.parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            allowed = ", ".join(p for p in params if params[p].kind is not inspect.Parameter.VAR_POSITIONAL) or "none"
            raise DatasetError(f"dataset {name!r} does not take {', '.join(map(repr, unknown))} (allowed: {allowed})")
    try:
        sig.bind(**kwargs)
    except TypeError as exc:
        raise DatasetError(f"dataset {name!r}: {exc}") from None
    return loader(**kwargs)


def load_dataset(spec: str, *, limit: int | None = None, **kwargs: Any) -> Dataset:
    """Load a registered dataset by name (or qualified id), or a ``.npz`` file / image folder by path.

    Args:
        spec: ``"mnist"``, ``"fashion_mnist"``, a plugin's name, or a path.
        limit: Keep only the first ``limit`` examples of each split (quick runs, tests).
        **kwargs: Passed to the loader (e.g. ``root=`` for Fashion-MNIST, ``image_size=`` for folders).

    Raises:
        artifex_core.UnknownNameError: An unknown name (with close matches).
        DatasetError: A loader failure, a bad argument, or a loader that did not return a Dataset.
    """
    if is_dataset_path(spec):
        from artifex_core.data._files import load_image_folder, load_npz

        from artifex_core.data._packed import is_pack, load_pack

        path = Path(spec)
        if is_pack(path):
            ds = _call(load_pack, str(path), {"path": path, **kwargs})
        elif path.is_dir():
            ds = _call(load_image_folder, str(path), {"path": path, **kwargs})
        elif path.suffix == ".npz" or path.is_file():
            if path.suffix != ".npz":
                raise DatasetError(f"dataset file {spec!r}: only .npz files are supported (or a folder of images)")
            ds = _call(load_npz, str(path), {"path": path, **kwargs})
        else:
            raise DatasetError(f"dataset path {spec!r} does not exist")
    else:
        from artifex_core._registry import datasets

        ds = _call(datasets.get(spec), spec, kwargs)
    if not isinstance(ds, Dataset):
        raise DatasetError(f"dataset {spec!r}: its loader returned {type(ds).__name__}, not an artifex Dataset")
    return ds.subset(limit)
