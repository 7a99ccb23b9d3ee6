"""Dataset loaders of the core: .npz, image folders, name/path resolution, fixed binarization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex_core.data import Dataset, DatasetError, binarize_fixed, load_dataset, load_image_folder, load_npz
from artifex_core import UnknownNameError


def test_npz_with_splits_and_with_x_only(tmp_path: Path) -> None:
    p = tmp_path / "splits.npz"
    np.savez(p, x_train=np.zeros((5, 3, 3), np.uint8), x_test=np.full((2, 3, 3), 255, np.uint8))
    ds = load_npz(p)
    assert ds.train_images.shape == (5, 3, 3, 1) and ds.train_labels is None and ds.num_classes is None
    assert ds.x_test.max() == 1.0
    q = tmp_path / "flat.npz"
    np.savez(q, x=np.linspace(0, 1, 40, dtype=np.float32).reshape(20, 2), y=np.arange(20) % 4)
    a, b = load_npz(q, test_fraction=0.25, seed=3), load_npz(q, test_fraction=0.25, seed=3)
    assert a.train_images.shape == (15, 2) and a.test_images.shape == (5, 2) and a.num_classes == 4
    np.testing.assert_array_equal(a.test_images, b.test_images)  # the split is seeded
    together = np.sort(np.concatenate([a.train_images[:, 0], a.test_images[:, 0]]))
    np.testing.assert_allclose(together, np.linspace(0, 1, 40)[::2])


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"images": np.zeros((2, 2))}, "expected keys 'x_train' and 'x_test'"),
        ({"x_train": np.zeros((2, 2))}, "needs both 'x_train' and 'x_test'"),
        ({"x": np.full((4, 2), 2.0)}, r"float pixels must lie in \[0, 1\], got 2..2"),
        ({"x": np.full((4, 2), 300)}, "integer pixels must lie in 0..255"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(3)}, "'y' has 3 labels for 4 examples"),
        ({"x_train": np.zeros((2, 2)), "x_test": np.zeros((2, 3))}, r"train examples have shape \(2,\), test examples \(3,\)"),
    ],
)
def test_npz_errors(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(DatasetError, match=message):
        load_npz(p)


def test_npz_not_a_zip(tmp_path: Path) -> None:
    p = tmp_path / "junk.npz"
    p.write_text("not a zip")
    with pytest.raises(DatasetError, match="is not a readable .npz file"):
        load_npz(p)


def _png(path: Path, value: int, size: tuple[int, int] = (4, 3)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0]), value, np.uint8)).save(path)


def test_image_folder_with_classes_and_split(tmp_path: Path) -> None:
    root = tmp_path / "shapes"
    for i in range(5):
        _png(root / "cat" / f"{i}.png", 10)
        _png(root / "dog" / f"{i}.png", 200)
    ds = load_image_folder(root, test_fraction=0.2)
    assert ds.train_images.shape == (8, 3, 4, 1) and ds.test_images.shape == (2, 3, 4, 1)
    assert ds.num_classes == 2 and ds.info["classes"] == "cat, dog"
    images = np.concatenate([ds.train_images, ds.test_images])[:, 0, 0, 0]
    labels = np.concatenate([ds.train_labels, ds.test_labels])
    assert set(zip(images.tolist(), labels.tolist(), strict=True)) == {(10, 0), (200, 1)}


def test_image_folder_train_test_layout_resize_and_errors(tmp_path: Path) -> None:
    root = tmp_path / "digits"
    _png(root / "train" / "a.png", 0)
    _png(root / "train" / "b.png", 255, size=(8, 6))
    _png(root / "test" / "c.png", 128)
    with pytest.raises(DatasetError, match="pass image_size to resize"):
        load_image_folder(root)
    ds = load_image_folder(root, image_size=(5, 5))
    assert ds.train_images.shape == (2, 5, 5, 1) and ds.test_images.shape == (1, 5, 5, 1) and ds.train_labels is None
    with pytest.raises(DatasetError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images found"):
        load_image_folder(tmp_path / "empty")


def test_load_dataset_by_path_name_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "toy.npz"
    np.savez(p, x=np.zeros((10, 2, 2), np.uint8), y=np.arange(10) % 2)
    assert load_dataset(str(p), limit=3, test_fraction=0.5).train_images.shape == (3, 2, 2, 1)
    assert load_dataset("mnist", limit=7).test_images.shape == (7, 28, 28, 1)
    with pytest.raises(UnknownNameError, match="did you mean 'mnist'"):
        load_dataset("mnsit")
    with pytest.raises(DatasetError, match=r"dataset 'mnist' does not take 'root' \(allowed: cache\)"):
        load_dataset("mnist", root="/tmp")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(str(tmp_path / "nope.npz"))
    (tmp_path / "data.csv").write_text("1,2")
    with pytest.raises(DatasetError, match="only .npz files are supported"):
        load_dataset(str(tmp_path / "data.csv"))


def test_fixed_binarization_is_seeded_and_unbiased() -> None:
    x = np.full((200, 10, 10, 1), 77, np.uint8)  # p = 0.302
    a, b, c = binarize_fixed(x, 0), binarize_fixed(x, 0), binarize_fixed(x, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert set(np.unique(a).tolist()) == {0, 255}
    assert abs(a.mean() / 255 - 77 / 255) < 0.01
    edges = binarize_fixed(np.array([[0, 255]], np.uint8), 5)
    assert edges.tolist() == [[0, 255]]
