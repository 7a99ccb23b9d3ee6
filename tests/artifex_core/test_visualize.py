"""Image grids and bar charts: written PNG sizes, modes and pixel values."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artifex_core.visualize import (
    make_image_grid,
    save_bar_chart,
    save_codebook_usage,
    save_image_grid,
    to_uint8_images,
)


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


def test_bar_chart_size_and_bar_heights(tmp_path):
    path = save_bar_chart([4, 0, 2], tmp_path / "bars.png", height=8, bar_width=2, gap=1, margin=0,
                          color=(10, 20, 30))
    img = Image.open(path)
    assert img.size == (3 * 3 - 1, 8)
    a = np.asarray(img)
    bar, background = [10, 20, 30], [255, 255, 255]
    assert a[:, 0].tolist() == [bar] * 8  # the largest value fills the height
    assert a[:, 3].tolist() == [background] * 8  # zero: no bar
    assert a[:, 6].tolist() == [background] * 4 + [bar] * 4  # half of the largest
    assert a[:, 2].tolist() == [background] * 8  # the gap


def test_codebook_usage_sorts_by_default(tmp_path):
    path = save_codebook_usage([1, 0, 3], tmp_path / "usage.png", height=6, bar_width=1)
    a = np.asarray(Image.open(path))
    margin = 4
    heights = [(a[margin : margin + 6, margin + 2 * i] != 255).all(axis=-1).sum() for i in range(3)]
    assert heights == [6, 2, 0]
    assert a[margin + 6, 0].tolist() == [128, 128, 128]  # the baseline
    with pytest.raises(ValueError, match="non-negative"):
        save_bar_chart([1, -1], tmp_path / "bad.png")


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
