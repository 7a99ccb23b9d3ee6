"""Procedural dSprites: shapes, determinism, factor semantics (position, scale, rotation), caching, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from artifex_plugins.data import _dsprites as ds_mod
from artifex_plugins.data import (
    FACTOR_SIZES,
    NUM_IMAGES,
    classes_to_indices,
    factor_values,
    indices_to_classes,
    load_dsprites,
    load_dsprites_dataset,
    render_dsprites,
    sample_factors,
)


def one(shape=0, scale=5, orientation=0, x=10, y=10) -> np.ndarray:
    return render_dsprites(np.array([[shape, scale, orientation, x, y]]))[0, :, :, 0].astype(np.int64)


def centroid(img: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(img)
    return float(rows.mean()), float(cols.mean())


def extent(img: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(img)
    return int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1


def test_sizes_and_index_round_trip():
    assert NUM_IMAGES == 737_280 == 3 * 6 * 40 * 32 * 32
    idx = np.array([0, 1, 32, 1024, NUM_IMAGES - 1])
    classes = indices_to_classes(idx)
    assert classes[1].tolist() == [0, 0, 0, 0, 1] and classes[2].tolist() == [0, 0, 0, 1, 0]
    assert classes[3].tolist() == [0, 0, 1, 0, 0] and classes[-1].tolist() == [2, 5, 39, 31, 31]
    np.testing.assert_array_equal(classes_to_indices(classes), idx)
    values = factor_values(classes)
    assert values[-1].tolist() == pytest.approx([3.0, 1.0, 2 * np.pi, 1.0, 1.0])
    assert values[0].tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="out of range"):
        render_dsprites(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match=r"shape \(n, 5\)"):
        render_dsprites(np.zeros((2, 4), int))


def test_subset_is_binary_deterministic_and_distinct():
    a = load_dsprites(300, seed=7, cache=False)
    b = load_dsprites(300, seed=7, cache=False)
    c = load_dsprites(300, seed=8, cache=False)
    assert a.images.shape == (300, 64, 64, 1) and a.images.dtype == np.uint8
    assert set(np.unique(a.images).tolist()) == {0, 1}
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)
    assert len(np.unique(a.indices)) == 300  # without replacement
    np.testing.assert_array_equal(a.images, render_dsprites(a.classes))  # images match their labels
    assert a.classes.shape == (300, 5) and a.values.shape == (300, 5)
    assert np.all(a.images.reshape(300, -1).sum(axis=1) > 20)  # every image shows a shape
    border = np.concatenate([a.images[:, :2].ravel(), a.images[:, -2:].ravel(),
                             a.images[:, :, :2].ravel(), a.images[:, :, -2:].ravel()])
    assert border.max() == 0  # shapes never touch the frame


def test_centroid_follows_position():
    for shape in range(3):
        base = centroid(one(shape, 3, 7, x=10, y=20))
        right = centroid(one(shape, 3, 7, x=13, y=20))
        down = centroid(one(shape, 3, 7, x=10, y=25))
        assert right == pytest.approx((base[0], base[1] + 3))  # whole-pixel shifts
        assert down == pytest.approx((base[0] + 5, base[1]))
    # a square is symmetric: its centroid is the centre pixel 16 + index
    assert centroid(one(0, 2, 0, x=4, y=9)) == pytest.approx((16 + 9, 16 + 4))


def test_scale_grows_area_and_sets_the_squares_side():
    for shape in range(3):
        areas = [one(shape, s, 0).sum() for s in range(6)]
        assert areas == sorted(areas) and areas[0] < areas[-1] / 2
    for s, radius in enumerate([5, 6, 7, 8, 9, 10]):  # half-extent 10 * scale, scale = 0.5 .. 1
        assert one(0, s, 0).sum() == (2 * radius + 1) ** 2


def test_rotation_turns_the_shape():
    flat = extent(one(1, 5, 0))  # the ellipse lies horizontally at orientation 0
    assert flat == (11, 21)  # semi-axes 10 and 5 pixels
    upright = extent(one(1, 5, 10))  # 10 * 2 pi / 39 is about 92 degrees
    assert upright[0] > 1.5 * upright[1]
    np.testing.assert_array_equal(one(2, 5, 0), one(2, 5, 39))  # 0 and 2 pi coincide, as in dSprites
    heart_up, heart_down = one(2, 5, 0), one(2, 5, 20)  # about 185 degrees apart
    r_up, r_down = centroid(heart_up)[0], centroid(heart_down)[0]
    assert r_up < 16 + 10 < r_down  # the wide lobes put the mass above the centre; turned over, below
    assert heart_up.sum() == pytest.approx(heart_down.sum(), rel=0.1)  # rotation keeps the area
    square45 = one(0, 5, 5)  # about 46 degrees: the diagonal is wider than the side
    assert extent(square45)[1] > extent(one(0, 5, 0))[1] + 5


def test_shapes_differ_and_sample_factors_are_in_range():
    imgs = [one(s, 5, 0) for s in range(3)]
    assert len({img.tobytes() for img in imgs}) == 3
    f = sample_factors(2000, seed=0)
    assert f.min() == 0 and np.all(f.max(axis=0) == np.asarray(FACTOR_SIZES) - 1)
    np.testing.assert_array_equal(sample_factors(5, seed=3), sample_factors(5, seed=3))


def test_cache_is_written_then_read(tmp_path, monkeypatch):
    first = load_dsprites(50, seed=1, cache=tmp_path)
    files = list(tmp_path.glob("dsprites-*.npz"))
    assert [p.name for p in files] == ["dsprites-v1-n50-seed1.npz"]

    def no_render(classes):
        raise AssertionError("should have been read from the cache")

    monkeypatch.setattr(ds_mod, "render_dsprites", no_render)
    second = load_dsprites(50, seed=1, cache=tmp_path)
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.indices, second.indices)
    with pytest.raises(AssertionError, match="cache"):  # another subset is not in the cache
        load_dsprites(50, seed=2, cache=tmp_path)
    monkeypatch.undo()
    files[0].write_bytes(b"damaged")  # a damaged cache is regenerated
    np.testing.assert_array_equal(load_dsprites(50, seed=1, cache=tmp_path).images, first.images)


def test_no_cache_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(tmp_path))
    load_dsprites(5, cache=False)
    assert not any(tmp_path.rglob("*.npz"))
    load_dsprites(5, cache=True)  # the default cache folder honours ARTIFEX_CACHE_DIR
    assert [p.name for p in tmp_path.rglob("*.npz")] == ["dsprites-v1-n5-seed0.npz"]


def test_dataset_split_matches_factor_split():
    data = load_dsprites(40, seed=2, cache=False)
    dataset = data.as_dataset(0.25, seed=3)
    train, test = data.train_test_split(0.25, seed=3)
    assert dataset.describe()["train_size"] == 30 and dataset.describe()["test_size"] == 10
    assert dataset.example_shape == (64, 64, 1)
    np.testing.assert_array_equal(dataset.test_images, test.images * 255)
    np.testing.assert_array_equal(dataset.test_labels, test.classes[:, 0])
    assert set(np.unique(dataset.x_train).tolist()) <= {0.0, 1.0}
    assert dataset.num_classes <= 3
    assert set(np.unique(data.images).tolist()) == {0, 1}  # the source set is not scaled in place
    assert load_dsprites_dataset(20, cache=False).describe()["test_size"] == 2
    with pytest.raises(ValueError, match="n must lie in"):
        load_dsprites(0, cache=False)
    with pytest.raises(ValueError, match="test_fraction"):
        data.train_test_split(1.0)


def test_generation_is_fast():
    classes = sample_factors(20_000, seed=0)
    render_dsprites(classes[:10])  # builds the sprite bank once
    start = time.perf_counter()
    images = render_dsprites(classes)
    assert images.shape == (20_000, 64, 64, 1)
    assert time.perf_counter() - start < 5.0  # about 0.3 s: one vectorised gather, not a loop over images
