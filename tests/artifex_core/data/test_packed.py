"""Packs: ``pack_dataset`` round trips a .npz and an image folder into memory-mapped files; damage is named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex_core.data import (
    DatasetError,
    binarize_fixed,
    host_splits,
    is_pack,
    load_dataset,
    load_image_folder,
    load_npz,
    load_pack,
    pack_dataset,
    verify_pack,
)
from artifex_core.data._packed import binarize_fixed_mapped


def _npz(tmp_path: Path, n: int = 40, labels: bool = True) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "src.npz"
    arrays = {"x": rng.integers(0, 256, (n, 5, 4), dtype=np.uint8)}
    if labels:
        arrays["y"] = np.arange(n) % 3
    np.savez(path, **arrays)
    return path


def _same(a: object, b: object) -> None:
    if a is None or b is None:
        assert a is None and b is None
        return
    assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def test_npz_round_trip_is_memory_mapped_and_equal_to_the_loader(tmp_path: Path) -> None:
    src = _npz(tmp_path)
    manifest = pack_dataset(src, tmp_path / "pk", test_fraction=0.25, seed=3)
    assert manifest["counts"] == {"train": 30, "test": 10}
    assert manifest["example_shape"] == [5, 4, 1] and manifest["dtype"] == "uint8" and manifest["num_classes"] == 3
    assert set(manifest["files"]) == {"train_images", "train_labels", "test_images", "test_labels"}
    on_disk = json.loads((tmp_path / "pk" / "manifest.json").read_text())
    assert on_disk == manifest
    packed, loaded = load_pack(tmp_path / "pk"), load_npz(src, test_fraction=0.25, seed=3)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        array = getattr(packed, name)
        assert isinstance(array, np.memmap), name  # nothing loaded
        _same(np.asarray(array), getattr(loaded, name))
    assert packed.num_classes == 3 and packed.example_shape == (5, 4, 1) and is_pack(tmp_path / "pk")
    via_path = load_dataset(str(tmp_path / "pk"), limit=7)  # what `artifex train --dataset DEST` calls
    assert isinstance(via_path.train_images, np.memmap) and via_path.train_images.shape[0] == 7
    assert verify_pack(tmp_path / "pk") == manifest
    assert not list(tmp_path.glob(".pk.tmp-*"))  # written aside, then moved


def test_unlabelled_npz_and_image_folder(tmp_path: Path) -> None:
    pack_dataset(_npz(tmp_path, labels=False), tmp_path / "pk")
    ds = load_pack(tmp_path / "pk")
    assert ds.train_labels is None and ds.test_labels is None and ds.num_classes is None
    folder = tmp_path / "digits"
    rng = np.random.default_rng(1)
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (6, 6), dtype=np.uint8)).save(folder / cls / f"{i}.png")
    pack_dataset(folder, tmp_path / "fk", test_fraction=0.2)
    packed, loaded = load_pack(tmp_path / "fk"), load_image_folder(folder, test_fraction=0.2)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        _same(np.asarray(getattr(packed, name)), getattr(loaded, name))
    assert packed.num_classes == 2


def test_pack_refuses_an_existing_dest_unless_forced_and_never_a_foreign_folder(tmp_path: Path) -> None:
    src = _npz(tmp_path)
    pack_dataset(src, tmp_path / "pk")
    with pytest.raises(DatasetError, match=r"already exists; pass --force to replace it"):
        pack_dataset(src, tmp_path / "pk")
    np.savez(src, x=np.zeros((12, 2, 2), np.uint8))
    pack_dataset(src, tmp_path / "pk", force=True)
    assert load_pack(tmp_path / "pk").example_shape == (2, 2, 1)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="exists and is not a pack; refusing to replace it"):
        pack_dataset(src, tmp_path / "mine", force=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or folder"):
        pack_dataset(tmp_path / "nope.npz", tmp_path / "pk")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DatasetError, match="give a .npz file or a folder of images"):
        pack_dataset(tmp_path / "x.txt", tmp_path / "pk")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="is not a readable .npz file"):
        pack_dataset(tmp_path / "bad.npz", tmp_path / "pk")
    assert not (tmp_path / "pk").exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "manifest.json").write_text("{"), "manifest.json is not readable JSON"),
        (lambda p: (p / "manifest.json").write_text('{"format": "zip"}'), "is not an artifex-pack manifest"),
        (lambda p: (p / "test_labels.npy").unlink(), "test_labels: test_labels.npy is missing"),
        (lambda p: (p / "train_images.npy").open("ab").write(b"\0"), r"has 849 bytes, the manifest says 848"),
        (
            lambda p: np.save(p / "train_images.npy", np.zeros((36, 20, 1, 1), np.uint8)),
            r"holds uint8\[36, 20, 1, 1\], the manifest says uint8\[36, 5, 4, 1\] \(damaged\)",
        ),
    ],
)
def test_a_damaged_pack_is_named(tmp_path: Path, damage: object, message: str) -> None:
    pack_dataset(_npz(tmp_path), tmp_path / "pk")
    damage(tmp_path / "pk")  # type: ignore[operator]
    with pytest.raises(DatasetError, match=message):
        load_pack(tmp_path / "pk")


def test_verify_finds_a_flipped_byte_that_opening_does_not(tmp_path: Path) -> None:
    pack_dataset(_npz(tmp_path), tmp_path / "pk")
    path = tmp_path / "pk" / "train_images.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    load_pack(tmp_path / "pk")  # same size and header: opening is cheap and does not read the data
    with pytest.raises(DatasetError, match=r"train_images \(train_images.npy\) does not match its sha256"):
        verify_pack(tmp_path / "pk")
    with pytest.raises(DatasetError, match="has no manifest.json"):
        load_pack(tmp_path)


def test_fixed_binarization_of_a_mapped_split_draws_the_same_bits(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (1001, 7, 3), dtype=np.uint8)  # odd sizes: the generator's buffered halves
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    import artifex_core.data._packed as packed

    old, packed._CHUNK = packed._CHUNK, 4 * 21 * 13  # 13 rows a chunk
    try:
        bits = binarize_fixed_mapped(mapped, 5)
    finally:
        packed._CHUNK = old
    assert isinstance(bits, np.memmap) and np.array_equal(bits, binarize_fixed(x, 5))
    pack_dataset(_npz(tmp_path), tmp_path / "pk")
    ds = load_pack(tmp_path / "pk")
    train, test = host_splits(ds, "fixed", 4)
    assert isinstance(train, np.memmap) and np.array_equal(train, binarize_fixed(np.asarray(ds.train_images), 4))
    assert np.array_equal(test, binarize_fixed(np.asarray(ds.test_images), 5))
