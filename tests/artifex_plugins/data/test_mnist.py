"""The built-in plugin's datasets: IDX parsing, the packaged MNIST, Fashion-MNIST, their registration."""

from __future__ import annotations

import gzip
import inspect
import struct
from pathlib import Path

import numpy as np
import pytest

from artifex_core.data import Dataset, DatasetError, DatasetUnavailableError
from artifex_core import datasets
from artifex_plugins.data import load_fashion_mnist, load_mnist, parse_idx, read_idx


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.getbasetemp() / "artifex-cache"
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(path))
    return path


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


def test_the_builtin_plugin_registers_both_lazily() -> None:
    for name, module in (("mnist", "artifex_plugins.data._mnist"), ("fashion_mnist", "artifex_plugins.data._fashion_mnist")):
        entry = datasets.entry(name)
        assert entry.plugin.name == "builtin" and entry.summary, name
        assert entry.target_path.startswith(f"{module}:"), entry.target_path
        loader = entry.load()
        assert callable(loader) and inspect.signature(loader).return_annotation in ("Dataset", Dataset), name
