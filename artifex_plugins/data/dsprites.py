"""Procedural dSprites: 64x64 binary images of a square, an ellipse or a heart, generated, not downloaded.

The five ground-truth factors follow DeepMind's dSprites (Matthey et al. 2017), in its order:

======== ====== =========================================================================
factor    size  value
======== ====== =========================================================================
shape        3  1 square, 2 ellipse, 3 heart
scale        6  ``linspace(0.5, 1, 6)``; the shape's half-extent is ``10 * scale`` pixels
orientation 40  ``linspace(0, 2 pi, 40)`` radians, counter-clockwise as displayed
pos_x       32  ``linspace(0, 1, 32)``; the centre's column is ``16 + index``
pos_y       32  ``linspace(0, 1, 32)``; the centre's row is ``16 + index`` (downwards)
======== ====== =========================================================================

That is 3 x 6 x 40 x 32 x 32 = 737,280 images, indexed in row-major factor order (``pos_y`` fastest). As in
the original, orientations 0 and 2 pi coincide, and symmetric shapes repeat under rotation.

Rendering is vectorised: each shape's implicit function is evaluated, after inverse rotation and scaling of
the pixel coordinates, on a 95x95 canvas for all 720 (shape, scale, orientation) sprites at once. Positions
are whole-pixel shifts, so an image is a 64x64 window of its sprite's canvas, gathered for many images in
one NumPy indexing operation. A generated set is cached (bit-packed ``.npz``) under
``cache_dir("datasets")`` (``~/.cache/artifex/datasets``) or a given folder.

Example:
    >>> ds = load_dsprites(8, seed=0, cache=False)
    >>> ds.images.shape, ds.images.dtype, ds.classes.shape
    ((8, 64, 64, 1), dtype('uint8'), (8, 5))
    >>> sorted(np.unique(ds.images).tolist())
    [0, 1]
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artifex_core.data.cache import cache_dir, load_cached_arrays, save_cached_arrays
from artifex_core.data.dataset import Dataset

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "IMAGE_SIZE",
    "NUM_IMAGES",
    "DSprites",
    "classes_to_indices",
    "factor_values",
    "indices_to_classes",
    "load_dsprites",
    "load_dsprites_dataset",
    "render_dsprites",
    "sample_factors",
]

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
NUM_IMAGES: int = math.prod(FACTOR_SIZES)
IMAGE_SIZE: int = 64
SHAPES: tuple[str, ...] = ("square", "ellipse", "heart")

_VERSION = "v1"  # bump when rendering changes, so stale caches are not reused
_BASE_RADIUS = 10.0  # half-extent in pixels at scale 1
_FIRST_CENTRE = 16  # pixel of the centre at position index 0
_CANVAS = IMAGE_SIZE + FACTOR_SIZES[3] - 1  # 95: every 64x64 window for the 32 shifts
_CANVAS_CENTRE = _FIRST_CENTRE + FACTOR_SIZES[3] - 1  # 47
_HEART_HALF_WIDTH = 1.139  # x-extent of (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0
_HEART_Y_CENTRE = 0.118  # middle of its y-extent [-1, 1.236]
_EPS = 1e-6  # boundary tolerance, so rounding in sin/cos cannot flip pixels between machines
_RANDOM_CHUNK = 65_536  # images gathered per indexing operation


def factor_values(classes: Any) -> np.ndarray:
    """Factor values ``(n, 5)`` ``float32`` of factor class indices ``(n, 5)`` (see the module table).

    Example:
        >>> factor_values(np.array([[2, 5, 0, 31, 0]])).tolist()
        [[3.0, 1.0, 0.0, 1.0, 0.0]]
    """
    c = _check_classes(classes)
    values = [
        c[:, 0] + 1.0,
        np.linspace(0.5, 1.0, FACTOR_SIZES[1])[c[:, 1]],
        np.linspace(0.0, 2 * math.pi, FACTOR_SIZES[2])[c[:, 2]],
        np.linspace(0.0, 1.0, FACTOR_SIZES[3])[c[:, 3]],
        np.linspace(0.0, 1.0, FACTOR_SIZES[4])[c[:, 4]],
    ]
    return np.stack(values, axis=1).astype(np.float32)


def _check_classes(classes: Any) -> np.ndarray:
    c = np.asarray(classes)
    if c.ndim != 2 or c.shape[1] != len(FACTOR_SIZES) or not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"factor classes must be integers of shape (n, {len(FACTOR_SIZES)}), got {c.dtype} {c.shape}")
    if c.size and (np.any(c < 0) or np.any(c >= np.asarray(FACTOR_SIZES))):
        raise ValueError(f"factor classes out of range; sizes are {FACTOR_SIZES}")
    return c.astype(np.int64, copy=False)


def classes_to_indices(classes: Any) -> np.ndarray:
    """Dataset index of each factor combination ``(n, 5) -> (n,)`` (row-major, ``pos_y`` fastest).

    Example:
        >>> classes_to_indices(np.array([[0, 0, 0, 0, 1], [0, 0, 0, 1, 0]])).tolist()
        [1, 32]
    """
    return np.ravel_multi_index(tuple(_check_classes(classes).T), FACTOR_SIZES).astype(np.int64)


def indices_to_classes(indices: Any) -> np.ndarray:
    """Factor class indices ``(n, 5)`` of dataset indices ``(n,)``; the inverse of :func:`classes_to_indices`.

    Example:
        >>> indices_to_classes(np.array([NUM_IMAGES - 1])).tolist()
        [[2, 5, 39, 31, 31]]
    """
    idx = np.asarray(indices, np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= NUM_IMAGES):
        raise ValueError(f"indices must lie in 0..{NUM_IMAGES - 1}")
    return np.stack(np.unravel_index(idx, FACTOR_SIZES), axis=-1).astype(np.int64)


def sample_factors(n: int, *, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n`` factor combinations drawn uniformly (with replacement): ``(n, 5)`` ``int64``.

    Example:
        >>> sample_factors(3, seed=1).shape
        (3, 5)
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.integers(0, FACTOR_SIZES, size=(n, len(FACTOR_SIZES)))


def _shape_masks(u: np.ndarray, v: np.ndarray, shape: int) -> np.ndarray:
    """Inside-test of shape ``shape`` in unit coordinates (x right, y up, half-extent 1)."""
    if shape == 0:  # square
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0 + _EPS
    if shape == 1:  # ellipse, semi-axes 1 and 1/2
        return u * u + 4.0 * v * v <= 1.0 + _EPS
    x = u * _HEART_HALF_WIDTH  # heart: (x^2 + y^2 - 1)^3 <= x^2 y^3, lobes up
    y = v * _HEART_HALF_WIDTH + _HEART_Y_CENTRE
    return (x * x + y * y - 1.0) ** 3 - x * x * y**3 <= _EPS


@functools.lru_cache(maxsize=1)
def _sprite_bank() -> np.ndarray:
    """All 720 (shape, scale, orientation) sprites centred on a 95x95 canvas: ``(3, 6, 40, 95, 95)`` bool."""
    offsets = np.arange(_CANVAS, dtype=np.float64) - _CANVAS_CENTRE
    px = offsets[None, :]  # columns: x to the right
    py = -offsets[:, None]  # rows go down, y goes up
    radius = _BASE_RADIUS * np.linspace(0.5, 1.0, FACTOR_SIZES[1])[:, None, None, None]
    theta = np.linspace(0.0, 2 * math.pi, FACTOR_SIZES[2])[None, :, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    u = (cos * px + sin * py) / radius  # rotate the canvas back by theta, then unscale
    v = (-sin * px + cos * py) / radius
    bank = np.stack([_shape_masks(u, v, s) for s in range(len(SHAPES))])
    bank.setflags(write=False)
    return bank


def render_dsprites(classes: Any) -> np.ndarray:
    """Render the images of factor combinations ``(n, 5)``: ``uint8`` ``(n, 64, 64, 1)`` with values 0 and 1.

    Vectorised: one gather from the sprite bank per 65,536 images, no loop over images.

    Example:
        >>> img = render_dsprites(np.array([[0, 5, 0, 0, 0]]))[0, :, :, 0]  # largest square, top-left
        >>> int(img.sum()), int(img[16, 16]), int(img[16, 27])  # 21 x 21 pixels around (16, 16)
        (441, 1, 0)
    """
    c = _check_classes(classes)
    windows = np.lib.stride_tricks.sliding_window_view(_sprite_bank(), (IMAGE_SIZE, IMAGE_SIZE), axis=(3, 4))
    last = FACTOR_SIZES[3] - 1
    out = np.empty((c.shape[0], IMAGE_SIZE, IMAGE_SIZE, 1), np.uint8)
    for start in range(0, c.shape[0], _RANDOM_CHUNK):
        p = c[start : start + _RANDOM_CHUNK]
        out[start : start + len(p), :, :, 0] = windows[p[:, 0], p[:, 1], p[:, 2], last - p[:, 4], last - p[:, 3]]
    return out


@dataclass(frozen=True)
class DSprites:
    """A set of dSprites images with their factors.

    Attributes:
        images: ``uint8`` ``(n, 64, 64, 1)``, values 0 and 1.
        indices: Position of each image in the full, factor-ordered set ``(n,)``.
        factor_names: The five factors' names.
        factor_sizes: Their numbers of values ``(3, 6, 40, 32, 32)``.
    """

    images: np.ndarray
    indices: np.ndarray
    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES

    @property
    def x(self) -> np.ndarray:
        """The images as ``float32`` 0.0 / 1.0, what the models take (``images`` are ``uint8`` 0 / 1).

        Example:
            >>> d = load_dsprites(2, cache=False)
            >>> d.x.dtype, float(d.x.max())
            (dtype('float32'), 1.0)
        """
        return self.images.astype(np.float32)

    @property
    def classes(self) -> np.ndarray:
        """Factor class indices ``(n, 5)`` (the labels used by MIG)."""
        return indices_to_classes(self.indices)

    @property
    def values(self) -> np.ndarray:
        """Factor values ``(n, 5)`` (see the module table)."""
        return factor_values(self.classes)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def train_test_split(self, test_fraction: float = 0.1, *, seed: int = 0) -> tuple[DSprites, DSprites]:
        """Split into a random training set and a test set of ``round(n * test_fraction)`` images."""
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
        n = len(self)
        n_test = min(max(1, round(n * test_fraction)), n - 1)
        order = np.random.default_rng(seed).permutation(n)
        test, train = order[:n_test], order[n_test:]
        return (DSprites(self.images[train], self.indices[train]), DSprites(self.images[test], self.indices[test]))

    def as_dataset(self, test_fraction: float = 0.1, *, seed: int = 0) -> Dataset:
        """A :class:`~artifex_core.data.dataset.Dataset` (images 0/255, labels = shape) split as
        :meth:`train_test_split` with the same arguments, whose test split's ``.classes`` are the factors."""
        train, test = self.train_test_split(test_fraction, seed=seed)
        info = {"factors": ", ".join(FACTOR_NAMES), "source": f"procedural dSprites {_VERSION}"}
        x_train, x_test = train.images, test.images  # fresh copies from the split: scale them in place
        np.multiply(x_train, np.uint8(255), out=x_train)
        np.multiply(x_test, np.uint8(255), out=x_test)
        return Dataset.from_arrays("dsprites", x_train, train.classes[:, 0], x_test, test.classes[:, 0], info=info)


def _cache_file(n: int | None, seed: int, folder: Path) -> Path:
    name = "full" if n is None else f"n{n}-seed{seed}"
    return folder / f"dsprites-{_VERSION}-{name}.npz"


def load_dsprites(
    n: int | None = None,
    *,
    seed: int = 0,
    cache: bool | str | Path = True,
) -> DSprites:
    """Generate (or load from the cache) the full dSprites set or a seeded random subset of it.

    Args:
        n: Number of distinct images, drawn without replacement in random order; ``None`` for all 737,280
            in factor order (3 GB as ``uint8``).
        seed: Seed of the subset (ignored when ``n`` is None).
        cache: ``True`` for ``cache_dir("datasets")``, a folder to cache in, or ``False`` for no cache.

    Raises:
        ValueError: If ``n`` is not in ``1..737280``.

    Example:
        >>> a = load_dsprites(4, seed=3, cache=False); b = load_dsprites(4, seed=3, cache=False)
        >>> bool(np.array_equal(a.images, b.images))
        True
    """
    if n is not None and not 1 <= int(n) <= NUM_IMAGES:
        raise ValueError(f"n must lie in 1..{NUM_IMAGES} (or be None for all), got {n}")
    path = None
    if cache is not False:
        folder = cache_dir("datasets") if cache is True else Path(cache)
        path = _cache_file(None if n is None else int(n), seed, folder)
        cached = load_cached_arrays(path)
        if cached is not None and "packed" in cached and "indices" in cached:
            indices = cached["indices"].astype(np.int64)
            packed = cached["packed"]
            if packed.shape == (len(indices), IMAGE_SIZE, IMAGE_SIZE // 8) and (n is None or len(indices) == n):
                images = np.unpackbits(packed, axis=-1)[..., None]
                return DSprites(images, indices)
    if n is None:
        indices = np.arange(NUM_IMAGES, dtype=np.int64)
    else:
        indices = np.random.default_rng(seed).choice(NUM_IMAGES, size=int(n), replace=False).astype(np.int64)
    images = render_dsprites(indices_to_classes(indices))
    if path is not None:
        save_cached_arrays(path, {"packed": np.packbits(images[..., 0], axis=-1), "indices": indices})
    return DSprites(images, indices)


def load_dsprites_dataset(
    n: int | None = None,
    *,
    seed: int = 0,
    test_fraction: float = 0.1,
    cache: bool | str | Path = True,
) -> Dataset:
    """dSprites as a :class:`~artifex_core.data.dataset.Dataset` (labels: the shape, 3 classes).

    ``load_dsprites(n, seed=seed).train_test_split(test_fraction, seed=seed)`` gives the same split with
    all factors (for MIG on the test split).

    Example:
        >>> ds = load_dsprites_dataset(20, cache=False)
        >>> ds.example_shape, ds.describe()["test_size"]
        ((64, 64, 1), 2)
    """
    return load_dsprites(n, seed=seed, cache=cache).as_dataset(test_fraction, seed=seed)
