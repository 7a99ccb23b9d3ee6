"""Packed datasets: ``.npy`` files read through memory maps, so training never loads a split whole. NumPy only.

``artifex data pack SRC DEST`` (:func:`pack_dataset`) converts a ``.npz`` or an image folder once into a
folder holding one ``.npy`` file per split and array and a ``manifest.json``::

    DEST/manifest.json          format, version, name, example shape, dtype, classes, per file: rows, bytes, sha256
    DEST/train_images.npy       (N, ...) uint8 or float32
    DEST/train_labels.npy       (N,) int32 (labelled data only)
    DEST/test_images.npy, DEST/test_labels.npy

:func:`load_pack` (what ``artifex train --dataset DEST`` calls) opens them with ``np.load(mmap_mode="r")``: a
``np.memmap`` is an ``np.ndarray``, so the :class:`~artifex_core.data.Dataset` it returns works everywhere an
in-memory one does, and the host-streaming path (:mod:`artifex_core.data._feeding`) reads only the pages of
the rows it feeds (each process its own rows). One file per split rather than many shards: a memory map
already reads any subset of rows, and the permutation of each epoch is global. Opening a pack checks its
manifest and every file's header and size (cheap); :func:`verify_pack` (``artifex data verify``) also checks
the sha256 sums. Packing reads the source as its loader does (once, in memory).

Example:
    >>> import numpy as np, tempfile, os
    >>> root = tempfile.mkdtemp()
    >>> np.savez(os.path.join(root, "toy.npz"), x=np.zeros((10, 4, 4), np.uint8), y=np.arange(10) % 2)
    >>> manifest = pack_dataset(os.path.join(root, "toy.npz"), os.path.join(root, "toy"))
    >>> ds = load_pack(os.path.join(root, "toy"))
    >>> type(ds.train_images).__name__, ds.train_images.shape, ds.num_classes
    ('memmap', (9, 4, 4, 1), 2)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from artifex_core.data._dataset import Dataset, DatasetError

__all__ = [
    "MANIFEST",
    "PACK_FORMAT",
    "binarize_fixed_mapped",
    "is_pack",
    "load_pack",
    "pack_dataset",
    "verify_pack",
    "write_pack",
]

PACK_FORMAT = "artifex-pack"
PACK_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 22  # bytes hashed or binarized at a time


def is_pack(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a pack's ``manifest.json``."""
    return (Path(path) / MANIFEST).is_file()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_dest(target: Path, force: bool) -> None:
    if target.exists() or target.is_symlink():
        if not force:
            raise DatasetError(f"{str(target)!r} already exists; pass --force to replace it")
        if not target.is_dir() or not (is_pack(target) or not any(target.iterdir())):
            raise DatasetError(f"{str(target)!r} exists and is not a pack; refusing to replace it")


def _load_source(src: Path, **kwargs: Any) -> Dataset:
    from artifex_core.data._files import load_image_folder, load_npz

    if src.is_dir():
        if is_pack(src):
            raise DatasetError(f"{str(src)!r} is already a pack")
        return load_image_folder(src, **kwargs)
    if src.is_file():
        if src.suffix != ".npz":
            raise DatasetError(f"cannot pack {str(src)!r}: give a .npz file or a folder of images")
        return load_npz(src, **kwargs)
    raise DatasetError(f"cannot pack {str(src)!r}: no such file or folder")


def pack_dataset(src: str | Path, dest: str | Path, *, force: bool = False, **kwargs: Any) -> dict[str, Any]:
    """Convert a ``.npz`` or an image folder into a pack at ``dest`` (written aside, then moved into place).

    Args:
        src: The ``.npz`` file or image folder (read by :func:`~artifex_core.data.load_npz` /
            :func:`~artifex_core.data.load_image_folder`).
        dest: The pack folder to create.
        force: Replace an existing ``dest`` (only an existing pack or an empty folder).
        **kwargs: Passed to the loader (``test_fraction``, ``seed``, ``image_size``, ``grayscale``).

    Returns:
        The manifest written.

    Raises:
        DatasetError: A missing or unreadable source, a ``dest`` that exists (without ``force``, or that is
            not a pack), or a ``dest`` inside ``src``.
    """
    source, target = Path(src), Path(dest)
    _check_dest(target, force)
    if source.resolve() in target.resolve().parents or source.resolve() == target.resolve():
        raise DatasetError(f"the pack {str(target)!r} cannot be written inside its source {str(source)!r}")
    return write_pack(_load_source(source, **kwargs), target, force=force)


def write_pack(dataset: Dataset, dest: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Write ``dataset`` as a pack at ``dest`` (aside, then moved into place); its arrays may be memory maps.

    Returns:
        The manifest written.

    Raises:
        DatasetError: ``dest`` exists (without ``force``, or it is not a pack).
    """
    target = Path(dest)
    _check_dest(target, force)
    ds = dataset
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        files: dict[str, Any] = {}
        arrays = {"train_images": ds.train_images, "train_labels": ds.train_labels,
                  "test_images": ds.test_images, "test_labels": ds.test_labels}
        for key, array in arrays.items():
            if array is None:
                continue
            path = work / f"{key}.npy"
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
            files[key] = {"file": path.name, "shape": list(array.shape), "dtype": str(array.dtype),
                          "bytes": path.stat().st_size, "sha256": _sha256(path)}
        manifest = {
            "format": PACK_FORMAT,
            "version": PACK_VERSION,
            "name": ds.name,
            "example_shape": list(ds.example_shape),
            "dtype": str(ds.train_images.dtype),
            "num_classes": ds.num_classes,
            "counts": {"train": int(ds.train_images.shape[0]), "test": int(ds.test_images.shape[0])},
            "files": files,
            "info": {k: str(v) for k, v in ds.info.items()},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return manifest


def _read_manifest(root: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise DatasetError(f"pack {str(root)!r} does not exist")
    path = root / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{str(root)!r} is not a pack: it has no {MANIFEST} (make one with `artifex data pack`)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"pack {str(root)!r} is damaged: {MANIFEST} is not readable JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        raise DatasetError(f"pack {str(root)!r} is damaged: {MANIFEST} is not an {PACK_FORMAT} manifest")
    if manifest.get("version") != PACK_VERSION:
        raise DatasetError(
            f"pack {str(root)!r} has version {manifest.get('version')!r}; this artifex reads version {PACK_VERSION}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or "train_images" not in files or "test_images" not in files:
        raise DatasetError(f"pack {str(root)!r} is damaged: {MANIFEST} lists no train_images/test_images")
    return manifest


def _open(root: Path, key: str, entry: Any) -> np.ndarray:
    where = f"pack {str(root)!r}: {key}"
    if not isinstance(entry, dict) or not {"file", "shape", "dtype", "bytes"} <= set(entry):
        raise DatasetError(f"{where}: its manifest entry is damaged")
    path = root / str(entry["file"])
    if not path.is_file():
        raise DatasetError(f"{where}: {path.name} is missing")
    size = path.stat().st_size
    if size != entry["bytes"]:
        raise DatasetError(f"{where}: {path.name} has {size} bytes, the manifest says {entry['bytes']} (damaged)")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{where}: {path.name} is not a readable .npy file ({exc})") from None
    if list(array.shape) != list(entry["shape"]) or str(array.dtype) != entry["dtype"]:
        raise DatasetError(
            f"{where}: {path.name} holds {array.dtype}{list(array.shape)}, the manifest says "
            f"{entry['dtype']}{list(entry['shape'])} (damaged)"
        )
    return array


def load_pack(path: str | Path) -> Dataset:
    """Open a pack made by :func:`pack_dataset`, memory-mapped (nothing is read but the headers).

    Raises:
        DatasetError: Not a pack, or a damaged one (a missing file, a size or header that differs from the
            manifest); the message names the file.
    """
    root = Path(path)
    manifest = _read_manifest(root)
    files = manifest["files"]
    arrays = {key: _open(root, key, entry) for key, entry in files.items()}
    x_tr, x_te = arrays["train_images"], arrays["test_images"]
    y_tr, y_te = arrays.get("train_labels"), arrays.get("test_labels")
    if x_tr.dtype not in (np.uint8, np.float32) or x_tr.ndim not in (2, 4) or x_tr.shape[1:] != x_te.shape[1:]:
        raise DatasetError(f"pack {str(root)!r} is damaged: images {x_tr.dtype}{x_tr.shape} / {x_te.shape}")
    for y, x, split in ((y_tr, x_tr, "train"), (y_te, x_te, "test")):
        if y is not None and (y.dtype != np.int32 or y.shape != x.shape[:1]):
            raise DatasetError(f"pack {str(root)!r} is damaged: {split} labels {y.dtype}{y.shape} for {len(x)} images")
    if (y_tr is None) != (y_te is None):
        raise DatasetError(f"pack {str(root)!r} is damaged: labels for one split only")
    info = {**manifest.get("info", {}), "pack": str(root.resolve())}
    name = str(manifest.get("name") or root.name)
    num_classes = manifest.get("num_classes")
    return Dataset(name, x_tr, y_tr, x_te, y_te, None if num_classes is None else int(num_classes), info)


def verify_pack(path: str | Path) -> dict[str, Any]:
    """Check a pack completely: :func:`load_pack`'s checks and every file's sha256; returns the manifest.

    Raises:
        DatasetError: The first damaged file, named.
    """
    root = Path(path)
    load_pack(root)
    manifest = _read_manifest(root)
    for key, entry in manifest["files"].items():
        digest = _sha256(root / entry["file"])
        if digest != entry.get("sha256"):
            raise DatasetError(f"pack {str(root)!r}: {key} ({entry['file']}) does not match its sha256 (damaged)")
    return manifest


def binarize_fixed_mapped(x: np.ndarray, seed: int) -> np.ndarray:
    """:func:`~artifex_core.data.binarize_fixed` of a memory-mapped split, into a temporary memory map.

    The same bits as ``binarize_fixed(x, seed)`` (one generator, drawn chunk by chunk in order), holding only a
    chunk in memory; the temporary file is deleted once the result is no longer referenced.

    Example:
        >>> from artifex_core.data._dataset import binarize_fixed
        >>> x = np.arange(60, dtype=np.uint8).reshape(20, 3) * 4
        >>> bool(np.array_equal(binarize_fixed_mapped(x, 3), binarize_fixed(x, 3)))
        True
    """
    from artifex_core.data._dataset import _to_float

    handle = tempfile.TemporaryFile(prefix="artifex-binarized-")
    out = np.memmap(handle, dtype=np.uint8, mode="w+", shape=x.shape)
    rng = np.random.default_rng(seed)
    row_bytes = max(1, int(np.prod(x.shape[1:])) * 4)
    step = max(1, _CHUNK // row_bytes)
    for start in range(0, int(x.shape[0]), step):
        probs = _to_float(np.asarray(x[start : start + step]))
        out[start : start + step] = (rng.random(probs.shape, dtype=np.float32) < probs).astype(np.uint8) * np.uint8(255)
    out.flush()
    return out
