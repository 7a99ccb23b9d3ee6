"""Dataset loaders: IDX parsing, packaged MNIST, Fashion-MNIST, .npz, image folders, name/path resolution."""

from __future__ import annotations

import gzip
import inspect
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex_core.data import (
    BUILTIN_DATASETS,
    Dataset,
    DatasetError,
    DatasetUnavailableError,
    binarize_fixed,
    load_dataset,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
    load_npz,
)
from artifex_core.data.idx import parse_idx, read_idx
from artifex_core.registry import UnknownNameError, _import_target


def _idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _write_idx_set(folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = True) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    parts = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }
    for name, array in parts.items():
        raw = _idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


def test_idx_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(_idx_bytes(a))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(_idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), a)


def test_idx_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="bad magic number"):
        parse_idx(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(DatasetError, match="truncated data"):
        parse_idx(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"\x00\x01")
    with pytest.raises(DatasetError, match="unknown IDX type code 0x07"):
        parse_idx(struct.pack(">BBBBI", 0, 0, 7, 1, 1) + b"\x00")
    with pytest.raises(DatasetError, match="does not exist"):
        read_idx(tmp_path / "missing.gz")


def test_packaged_mnist_matches_the_canonical_counts(_private_cache: Path) -> None:
    ds = load_mnist()
    assert ds.train_images.shape == (60000, 28, 28, 1) and ds.train_images.dtype == np.uint8
    assert ds.test_images.shape == (10000, 28, 28, 1)
    assert ds.num_classes == 10 and ds.train_labels.dtype == np.int32
    assert np.bincount(ds.train_labels)[:2].tolist() == [5923, 6742]
    assert np.bincount(ds.test_labels)[:2].tolist() == [980, 1135]
    assert abs(float(ds.train_images.mean()) / 255 - 0.1307) < 1e-3
    cached = list((_private_cache / "datasets").glob("mnist-*.npz"))
    assert len(cached) == 1
    again = load_mnist()  # from the cache now
    np.testing.assert_array_equal(again.test_images, ds.test_images)
    np.testing.assert_array_equal(again.train_labels, ds.train_labels)
    x = ds.subset(5).x_test
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0


def test_fashion_mnist_missing_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match=r"apt-get install dataset-fashion-mnist") as info:
        load_fashion_mnist(root=tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_reads_the_debian_layout(tmp_path: Path, gz: bool) -> None:
    _write_idx_set(tmp_path / "fm", gz=gz)
    ds = load_fashion_mnist(root=tmp_path / "fm")
    assert ds.name == "fashion_mnist" and ds.train_images.shape == (6, 28, 28, 1)
    assert ds.test_labels.tolist() == [0, 1, 2, 3] and ds.info["license"].startswith("MIT")


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


def test_load_dataset_by_path_name_and_errors(tmp_path: Path, builtin_datasets: None) -> None:
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


def test_builtin_targets_exist_and_return_datasets() -> None:
    for name, (target, summary) in BUILTIN_DATASETS.items():
        loader = _import_target(target)
        assert callable(loader) and summary, name
        assert inspect.signature(loader).return_annotation in ("Dataset", Dataset), name


def test_fixed_binarization_is_seeded_and_unbiased() -> None:
    x = np.full((200, 10, 10, 1), 77, np.uint8)  # p = 0.302
    a, b, c = binarize_fixed(x, 0), binarize_fixed(x, 0), binarize_fixed(x, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert set(np.unique(a).tolist()) == {0, 255}
    assert abs(a.mean() / 255 - 77 / 255) < 0.01
    edges = binarize_fixed(np.array([[0, 255]], np.uint8), 5)
    assert edges.tolist() == [[0, 255]]
