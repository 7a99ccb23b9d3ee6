"""Image grids written as PNG with Pillow, and bar charts drawn with matplotlib (imported lazily; no JAX).

Example:
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> images = np.zeros((6, 4, 4, 1))  # six black 4x4 images
    >>> path = save_image_grid(images, Path(tempfile.mkdtemp()) / "grid.png", nrow=3, padding=1)
    >>> from PIL import Image
    >>> Image.open(path).size  # width 3 * (4 + 1) + 1, height 2 * (4 + 1) + 1
    (16, 11)
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from artifex_core.atomic import atomic_write

__all__ = ["make_image_grid", "save_bar_chart", "save_codebook_usage", "save_image_grid", "to_uint8_images"]


def to_uint8_images(images: Any, *, image_shape: Sequence[int] | None = None) -> np.ndarray:
    """Normalise images to ``uint8`` ``(N, H, W, C)`` with ``C`` 1 or 3.

    Accepts ``(N, H, W)``, ``(N, H, W, C)`` or flat ``(N, D)`` (reshaped to ``image_shape``, or to a square
    grey image when ``D`` is a perfect square). Floats are taken in [0, 1] and clipped; ``uint8`` is kept.

    Raises:
        ValueError: On an unsupported shape or channel count.

    Example:
        >>> to_uint8_images(np.full((2, 4), 0.5)).shape  # 4 = 2 x 2
        (2, 2, 2, 1)
    """
    x = np.asarray(images)
    if x.ndim == 2:
        if image_shape is None:
            side = math.isqrt(x.shape[1])
            if side * side != x.shape[1]:
                raise ValueError(f"flat images of size {x.shape[1]} need image_shape=(H, W[, C])")
            image_shape = (side, side)
        x = x.reshape(x.shape[0], *image_shape)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W), (N, H, W, 1|3) or (N, D), got shape {np.shape(images)}")
    if x.shape[0] == 0:
        raise ValueError("no images")
    if x.dtype == np.uint8:
        return x
    if x.dtype == np.bool_:
        return x.astype(np.uint8) * np.uint8(255)
    x = np.nan_to_num(x.astype(np.float64), nan=0.0)
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def make_image_grid(
    images: Any,
    *,
    nrow: int = 8,
    padding: int = 2,
    pad_value: float = 1.0,
    image_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Tile images into one ``uint8`` array ``(H', W', C)``, ``nrow`` images per row (as torchvision).

    The grid is ``ceil(N / nrow)`` rows by ``min(nrow, N)`` columns, with ``padding`` pixels of
    ``pad_value`` (in [0, 1]) between images and around the edge; empty cells are ``pad_value`` too.

    Example:
        >>> make_image_grid(np.zeros((5, 2, 3)), nrow=2, padding=1).shape  # 3 rows, 2 columns
        (10, 9, 1)
    """
    if nrow < 1 or padding < 0:
        raise ValueError(f"nrow must be positive and padding non-negative, got nrow={nrow}, padding={padding}")
    x = to_uint8_images(images, image_shape=image_shape)
    n, h, w, c = x.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    fill = np.uint8(round(min(max(pad_value, 0.0), 1.0) * 255))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), fill, np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top : top + h, left : left + w] = x[i]
    return grid


def _write_png(img: Image.Image, path: str | Path) -> Path:
    """Encode ``img`` as PNG and replace ``path`` atomically (never through a symlink)."""
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return atomic_write(path, buffer.getvalue())


def _save_png(array: np.ndarray, path: str | Path, scale: int) -> Path:
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    return _write_png(img, path)


def save_image_grid(
    images: Any,
    path: str | Path,
    *,
    nrow: int = 8,
    padding: int = 2,
    scale: int = 1,
    pad_value: float = 1.0,
    image_shape: Sequence[int] | None = None,
    row_labels: Sequence[str] | None = None,
) -> Path:
    """Write images ``(N, H, W[, C])`` in [0, 1] (C = 1 grey, 3 RGB) as one PNG grid; returns the path.

    Args:
        images: The images (NumPy or JAX arrays); see :func:`to_uint8_images` for accepted layouts.
        path: Where to write the PNG (parent folders are created).
        nrow: Images per row.
        padding: Pixels between images and around the edge (before scaling).
        scale: Integer nearest-neighbour upscaling of the whole grid (e.g. 2 for small images).
        pad_value: Grey level of the padding in [0, 1] (1 = white).
        image_shape: Shape for flat ``(N, D)`` inputs.
        row_labels: One label per grid row (e.g. ``"z3"``), written in a margin left of the row.

    Raises:
        ValueError: When ``row_labels`` does not hold one label per row.

    Example:
        >>> import tempfile
        >>> p = save_image_grid(np.ones((2, 3, 3, 3)), Path(tempfile.mkdtemp()) / "g.png", nrow=2, scale=2)
        >>> Image.open(p).size, Image.open(p).mode
        ((24, 14), 'RGB')
    """
    grid = make_image_grid(images, nrow=nrow, padding=padding, pad_value=pad_value, image_shape=image_shape)
    if row_labels is None:
        return _save_png(grid, path, int(scale))
    rows = -(-len(to_uint8_images(images, image_shape=image_shape)) // nrow)
    if len(row_labels) != rows:
        raise ValueError(f"row_labels must hold one label per row: {rows} rows, got {len(row_labels)} labels")
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    img = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    return _write_png(_label_rows(img, list(row_labels), pad_value), path)


def _label_rows(img: Image.Image, labels: list[str], pad_value: float) -> Image.Image:
    """``img`` with a margin on its left holding ``labels[i]`` centred on the i-th of ``len(labels)`` rows."""
    from PIL import ImageFont

    font = ImageFont.load_default()
    boxes = [font.getbbox(label) for label in labels]
    gap = 4
    margin = max(int(box[2] - box[0]) for box in boxes) + 2 * gap
    level = round(min(max(pad_value, 0.0), 1.0) * 255)
    ink = 0 if level >= 128 else 255
    fill: int | tuple[int, int, int] = level if img.mode == "L" else (level,) * 3
    labelled = Image.new(img.mode, (img.width + margin, img.height), fill)
    labelled.paste(img, (margin, 0))
    draw = ImageDraw.Draw(labelled)
    row_height = img.height / len(labels)
    for i, (label, box) in enumerate(zip(labels, boxes, strict=True)):
        top = (i + 0.5) * row_height - (box[1] + box[3]) / 2
        draw.text((margin - gap - (box[2] - box[0]) - box[0], top), label, font=font,
                  fill=ink if img.mode == "L" else (ink,) * 3)
    return labelled


def save_bar_chart(
    values: Any,
    path: str | Path,
    *,
    sort: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    width: float = 6.4,
    height: float = 3.2,
    dpi: int = 100,
) -> Path:
    """Draw non-negative ``values`` as a bar chart PNG with matplotlib (:func:`artifex_core.charts.bar_chart`).

    One bar per value, ``sort`` orders them from largest to smallest; the image is ``width`` x ``height``
    inches at ``dpi``.

    Raises:
        ValueError: On empty, negative or non-finite values.

    Example:
        >>> import tempfile
        >>> p = save_bar_chart([1, 0, 2], Path(tempfile.mkdtemp()) / "bars.png", width=2, height=1, dpi=50)
        >>> Image.open(p).size
        (100, 50)
    """
    from artifex_core.charts import bar_chart, save_figure

    fig = bar_chart(values, sort=sort, title=title, xlabel=xlabel, ylabel=ylabel, width=width, height=height, dpi=dpi)
    return save_figure(fig, path)


def save_codebook_usage(counts: Any, path: str | Path, *, sort: bool = True) -> Path:
    """Bar chart of how often each VQ code is used (``counts`` ``(K,)``, e.g. from ``code_counts``).

    Bars are sorted from most to least used by default, so dead codes show as the empty tail; the title
    says how many codes were used.

    Example:
        >>> import tempfile
        >>> p = save_codebook_usage([5, 0, 3, 1], Path(tempfile.mkdtemp()) / "usage.png")
        >>> p.suffix
        '.png'
    """
    v = np.asarray(counts).ravel()
    used = int(np.count_nonzero(v)) if v.size else 0
    return save_bar_chart(
        counts, path, sort=sort, title=f"codebook usage: {used} of {v.size} codes used",
        xlabel="code (most used first)" if sort else "code", ylabel="count",
    )
