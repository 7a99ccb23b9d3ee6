"""Your own data: a ``.npz`` file or a folder of images.

``.npz`` keys: ``x_train`` and ``x_test`` (optionally ``y_train`` / ``y_test``), or ``x`` (optionally ``y``),
split deterministically into train and test. Images are ``uint8`` 0..255 (or bool) or floats in [0, 1],
shaped ``(N, H, W)``, ``(N, H, W, C)`` or flat ``(N, D)``.

An image folder holds ``train/`` and ``test/`` sub-folders, or is split deterministically. Inside, one
sub-folder per class (``digits/3/img.png``; labels follow the sorted class names), or images directly
(no labels). Images are read with Pillow, resized to ``image_size`` when given, otherwise they must all
share the first image's size.

Example:
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> np.savez(path, x=np.zeros((10, 4, 4), np.uint8), y=np.arange(10) % 2)
    >>> ds = load_npz(path, test_fraction=0.2)
    >>> ds.train_images.shape, ds.test_images.shape, ds.num_classes
    ((8, 4, 4, 1), (2, 4, 4, 1), 2)
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from artifex_core.data._dataset import Dataset, DatasetError

__all__ = ["IMAGE_SUFFIXES", "load_image_folder", "load_npz", "split_arrays"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")


def split_arrays(
    x: np.ndarray, y: np.ndarray | None, test_fraction: float, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Shuffle with ``seed`` and hold out ``test_fraction`` (at least one example) as the test split.

    Raises:
        DatasetError: Fewer than two examples or a fraction outside (0, 1).
    """
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(f"{what}: test_fraction must lie in (0, 1), got {test_fraction}")
    n = len(x)
    if n < 2:
        raise DatasetError(f"{what}: needs at least 2 examples to split into train and test, got {n}")
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    order = np.random.default_rng(seed).permutation(n)
    tr, te = order[n_test:], order[:n_test]
    return x[tr], None if y is None else y[tr], x[te], None if y is None else y[te]


def load_npz(path: str | Path, *, test_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """Load a dataset from a ``.npz`` file.

    Args:
        path: The file.
        test_fraction: Share held out for testing when the file has only ``x`` (and ``y``).
        seed: Seed of that split.

    Raises:
        DatasetError: Missing file, unknown keys, bad shapes or values.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"dataset file {str(p)!r} does not exist")
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays: dict[str, Any] = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"dataset file {str(p)!r} is not a readable .npz file: {exc}") from None
    name = p.stem
    info = {"source": str(p.resolve())}
    if "x_train" in arrays or "x_test" in arrays:
        if "x_train" not in arrays or "x_test" not in arrays:
            raise DatasetError(f"{p.name}: needs both 'x_train' and 'x_test' (found {', '.join(sorted(arrays))})")
        return Dataset.from_arrays(
            name, arrays["x_train"], arrays.get("y_train"), arrays["x_test"], arrays.get("y_test"), info=info
        )
    if "x" in arrays:
        x, y = arrays["x"], arrays.get("y")
        if y is not None and len(y) != len(x):
            raise DatasetError(f"{p.name}: 'y' has {len(y)} labels for {len(x)} examples")
        return Dataset.from_arrays(name, *split_arrays(x, y, test_fraction, seed, p.name), info=info)
    raise DatasetError(
        f"{p.name}: expected keys 'x_train' and 'x_test' (optionally 'y_train', 'y_test') or 'x' (optionally 'y'); "
        f"found {', '.join(sorted(arrays)) or 'none'}"
    )


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _scan(folder: Path) -> tuple[list[Path], list[str] | None, list[int] | None]:
    """Image paths, class names and labels (None for an unlabelled folder)."""
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if classes:
        paths, labels = [], []
        for label, cls in enumerate(classes):
            found = _images_in(folder / cls)
            paths += found
            labels += [label] * len(found)
        return paths, classes, labels
    return _images_in(folder), None, None


def _read_images(
    paths: list[Path], image_size: tuple[int, int] | None, grayscale: bool | None, what: str
) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not paths:
        raise DatasetError(f"{what}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    out = []
    mode: str | None = None
    size: tuple[int, int] | None = (image_size[1], image_size[0]) if image_size else None
    for path in paths:
        try:
            with Image.open(path) as opened:
                if mode is None:
                    grey = opened.mode in ("1", "L", "LA", "I", "I;16", "F") if grayscale is None else grayscale
                    mode = "L" if grey else "RGB"
                img = opened.convert(mode)
                if size is None:
                    size = img.size
                elif img.size != size:
                    if image_size is None:
                        raise DatasetError(
                            f"{what}: {path.name} is {img.size[0]}x{img.size[1]} but the first image is "
                            f"{size[0]}x{size[1]}; pass image_size to resize"
                        )
                    img = img.resize(size, Image.Resampling.BILINEAR)
                out.append(np.asarray(img, dtype=np.uint8))
        except (UnidentifiedImageError, OSError) as exc:
            raise DatasetError(f"{what}: cannot read image {str(path)!r}: {exc}") from None
    x = np.stack(out)
    return x[..., None] if x.ndim == 3 else x


def load_image_folder(
    path: str | Path,
    *,
    image_size: tuple[int, int] | None = None,
    grayscale: bool | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> Dataset:
    """Load a folder of images as ``uint8`` ``(N, H, W, C)``.

    Args:
        path: The folder (with ``train/`` and ``test/``, or split with ``test_fraction``).
        image_size: ``(height, width)`` to resize every image to; by default all must share one size.
        grayscale: Force one channel (True) or RGB (False); by default grey images stay grey.
        test_fraction: Share held out for testing when there are no ``train/``/``test/`` sub-folders.
        seed: Seed of that split.

    Raises:
        DatasetError: Missing folder, no images, unreadable or differently sized images.
    """
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"image folder {str(root)!r} does not exist")
    size = (image_size[0], image_size[1]) if image_size is not None else None
    info = {"source": str(root.resolve())}
    if (root / "train").is_dir() and (root / "test").is_dir():
        tr_paths, tr_classes, tr_labels = _scan(root / "train")
        te_paths, te_classes, te_labels = _scan(root / "test")
        if tr_classes != te_classes and tr_classes and te_classes:
            raise DatasetError(f"{root.name}: train classes {tr_classes} differ from test classes {te_classes}")
        x_tr = _read_images(tr_paths, size, grayscale, f"{root.name}/train")
        x_te = _read_images(te_paths, size, x_tr.shape[-1] == 1, f"{root.name}/test")
        y_tr = None if tr_labels is None else np.asarray(tr_labels)
        y_te = None if te_labels is None else np.asarray(te_labels)
        if tr_classes:
            info["classes"] = ", ".join(tr_classes)
        return Dataset.from_arrays(root.name, x_tr, y_tr, x_te, y_te, info=info)
    paths, classes, labels = _scan(root)
    x = _read_images(paths, size, grayscale, root.name)
    y = None if labels is None else np.asarray(labels)
    if classes:
        info["classes"] = ", ".join(classes)
    return Dataset.from_arrays(root.name, *split_arrays(x, y, test_fraction, seed, root.name), info=info)
