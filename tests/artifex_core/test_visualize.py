"""Image grids (Pillow) and bar charts (matplotlib): written PNG sizes, modes and pixel values."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artifex_core.charts import bar_chart
from artifex_core.visualize import (
    make_image_grid,
    save_bar_chart,
    save_codebook_usage,
    save_image_grid,
    to_uint8_images,
)

TAB_BLUE = (31, 119, 180)  # matplotlib's default "tab:blue"


def test_grid_layout_size_and_pixels(tmp_path):
    images = np.zeros((5, 3, 4, 1))  # 5 images of 3x4
    for i in range(5):
        images[i] = i / 5  # image i is grey level i/5
    images[0, 2, 3, 0] = 1.0  # bottom-right pixel of image 0
    path = save_image_grid(images, tmp_path / "out" / "grid.png", nrow=2, padding=1, pad_value=1.0)
    img = Image.open(path)
    assert img.mode == "L"
    assert img.size == (2 * (4 + 1) + 1, 3 * (3 + 1) + 1)  # 2 columns, 3 rows
    a = np.asarray(img)
    grey = [round(i / 5 * 255) for i in range(5)]
    assert a[0, 0] == 255 and a[4, 3] == 255  # padding, outer and between rows
    assert a[1, 1] == grey[0] and a[3, 4] == 255  # image 0: top-left and bottom-right pixels
    assert a[1, 6] == grey[1]  # image 1: grid row 0, column 1
    assert a[5, 1] == grey[2] and a[5, 6] == grey[3]  # images 2 and 3 in grid row 1
    assert a[9, 1] == grey[4]  # image 4 in grid row 2, column 0
    assert a[9, 6] == 255  # the empty last cell is padding


def test_rgb_scale_and_clipping(tmp_path):
    images = np.zeros((2, 2, 2, 3))
    images[0, ..., 0] = 2.0  # clipped to 1
    images[1, ..., 2] = -1.0  # clipped to 0
    path = save_image_grid(images, tmp_path / "rgb.png", nrow=2, padding=0, scale=3)
    img = Image.open(path)
    assert img.mode == "RGB" and img.size == (12, 6)
    a = np.asarray(img)
    assert a[0, 0].tolist() == [255, 0, 0] and a[5, 5].tolist() == [255, 0, 0]  # upscaled by 3, nearest
    assert a[0, 6].tolist() == [0, 0, 0]


def test_accepted_layouts():
    assert to_uint8_images(np.zeros((2, 5, 5))).shape == (2, 5, 5, 1)
    assert to_uint8_images(np.zeros((2, 9))).shape == (2, 3, 3, 1)  # flat square
    assert to_uint8_images(np.zeros((2, 6)), image_shape=(2, 3)).shape == (2, 2, 3, 1)
    assert to_uint8_images(np.array([[[True]]])).tolist() == [[[[255]]]]
    full = np.full((1, 2, 2, 1), 200, np.uint8)
    assert make_image_grid(full, padding=0)[0, 0, 0] == 200  # uint8 is kept as 0..255
    with pytest.raises(ValueError, match="need image_shape"):
        to_uint8_images(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="1\\|3"):
        to_uint8_images(np.zeros((2, 4, 4, 2)))
    with pytest.raises(ValueError, match="no images"):
        to_uint8_images(np.zeros((0, 4, 4)))
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        save_image_grid(np.zeros((1, 2, 2)), "unused.png", scale=0)


def test_nrow_larger_than_count_gives_one_row():
    assert make_image_grid(np.zeros((3, 2, 2)), nrow=8, padding=2).shape == (6, 14, 1)


def _bar_runs(a: np.ndarray, color: tuple[int, int, int]) -> list[int]:
    """Heights in pixels of the bars of ``color`` in image ``a``, left to right (one per contiguous run of
    columns holding that colour)."""
    mask = (np.abs(a[..., :3].astype(int) - color) <= 2).all(axis=-1)
    counts = mask.sum(axis=0)
    runs, current = [], 0
    for c in counts:
        if c:
            current = max(current, int(c))
        elif current:
            runs.append(current)
            current = 0
    return runs + ([current] if current else [])


def test_bar_chart_is_drawn_by_matplotlib_with_bars_proportional_to_values(tmp_path):
    path = save_bar_chart([4, 0, 2], tmp_path / "bars.png", width=4, height=3, dpi=100, title="three")
    img = Image.open(path)
    assert img.size == (400, 300)
    tall, short = _bar_runs(np.asarray(img.convert("RGB")), TAB_BLUE)  # the zero draws no bar
    assert abs(tall - 2 * short) <= 2 and tall > 100
    fig = bar_chart([4, 0, 2], title="three")
    assert [float(p.get_height()) for p in fig.axes[0].patches] == [4.0, 0.0, 2.0]
    assert fig.axes[0].get_title() == "three"


def test_codebook_usage_sorts_by_default_and_says_how_many_codes_are_used(tmp_path):
    a = np.asarray(Image.open(save_codebook_usage([1, 0, 3], tmp_path / "usage.png")).convert("RGB"))
    heights = _bar_runs(a, TAB_BLUE)
    assert len(heights) == 2 and heights[0] > heights[1]  # 3 then 1; the dead code is the empty tail
    assert abs(heights[0] - 3 * heights[1]) <= 3
    unsorted = _bar_runs(np.asarray(Image.open(save_codebook_usage([1, 0, 3], tmp_path / "u2.png", sort=False))
                                    .convert("RGB")), TAB_BLUE)
    assert unsorted[0] < unsorted[1]
    with pytest.raises(ValueError, match="non-negative"):
        save_bar_chart([1, -1], tmp_path / "bad.png")
    with pytest.raises(ValueError, match="non-empty"):
        save_bar_chart([], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_row_labels_name_each_row_in_a_left_margin(tmp_path):
    images = np.full((6, 10, 10, 1), 0.5)
    plain = np.asarray(Image.open(save_image_grid(images, tmp_path / "plain.png", nrow=3, padding=1)))
    path = save_image_grid(images, tmp_path / "labelled.png", nrow=3, padding=1, row_labels=["z0", "z11"])
    labelled = np.asarray(Image.open(path))
    margin = labelled.shape[1] - plain.shape[1]
    assert labelled.shape[0] == plain.shape[0] and margin > 0
    np.testing.assert_array_equal(labelled[:, margin:], plain)  # the grid itself is untouched
    top, bottom = labelled[:11, :margin], labelled[11:, :margin]
    assert (top < 128).any() and (bottom < 128).any()  # dark text on the white padding, one label per row
    assert (bottom < 128).sum() > (top < 128).sum()  # "z11" holds more ink than "z0"
    rgb = np.asarray(Image.open(save_image_grid(np.zeros((2, 4, 4, 3)), tmp_path / "rgb.png", nrow=2, scale=3,
                                                row_labels=["a"])))
    assert rgb.shape[0] == 3 * (4 + 2 + 2) and rgb.shape[2] == 3
    with pytest.raises(ValueError, match="one label per row: 2 rows, got 1 labels"):
        save_image_grid(images, tmp_path / "bad.png", nrow=3, row_labels=["z0"])
