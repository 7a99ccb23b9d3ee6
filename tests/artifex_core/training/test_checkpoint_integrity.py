"""Checkpoints are verified on restore (files, checksums, arrays) and fall back to the newest good one."""

from __future__ import annotations

import warnings
from pathlib import Path

import jax.numpy as jnp
import pytest

from artifex_core.training import CheckpointError, Checkpointer, CheckpointWarning
from artifex_core.training._manifest import MANIFEST

TEMPLATE = {"w": jnp.zeros((64, 64)), "b": jnp.zeros(3, jnp.int32)}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    with Checkpointer(tmp_path / "ckpt", keep=5) as ckpt:
        for epoch in (1, 2, 3):
            ckpt.save(epoch, {"w": jnp.full((64, 64), float(epoch)), "b": jnp.arange(3)}, {"epoch": epoch})
    return tmp_path / "ckpt"


def biggest_file(step: Path) -> Path:
    return max((p for p in step.rglob("*") if p.is_file() and p.name != MANIFEST), key=lambda p: p.stat().st_size)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:5]), "is truncated"),
        (lambda p: p.write_bytes(bytes([p.read_bytes()[0] ^ 1]) + p.read_bytes()[1:]), "fails its SHA-256 check"),
        (lambda p: p.unlink(), "is missing"),
    ],
    ids=["truncated", "garbled", "missing"],
)
def test_damage_is_found_named_and_skipped(folder: Path, damage, message: str) -> None:
    damage(biggest_file(folder / "3"))
    with Checkpointer(folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match=f"checkpoint 3 in .* is damaged: file .*{message}"):
            ckpt.restore(3, TEMPLATE)
        with pytest.warns(CheckpointWarning) as caught:
            epoch, state, meta, damaged = ckpt.restore_first_good(TEMPLATE)
    assert len(caught) == 1 and "skipped damaged checkpoint 3" in str(caught[0].message)
    assert "using checkpoint 2" in str(caught[0].message)
    assert (epoch, damaged, meta["epoch"], float(state["w"][0, 0])) == (2, [3], 2, 2.0)


def test_another_model_s_template_does_not_fit(folder: Path) -> None:
    with Checkpointer(folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match=r"does not fit this model: array \['w'\] is float32\(64, 64\) in the checkpoint but float32\(8, 8\) here"):
            ckpt.restore(3, {"w": jnp.zeros((8, 8)), "b": jnp.zeros(3, jnp.int32)})
        with pytest.raises(CheckpointError, match=r"array \['extra'\] of this model is not in the checkpoint"):
            ckpt.restore(3, {**TEMPLATE, "extra": jnp.zeros(1)})


def test_a_checkpoint_without_manifest_is_checked_by_reading_it(folder: Path) -> None:
    (folder / "3" / MANIFEST).unlink()  # as artifex 0.1 wrote them
    with Checkpointer(folder, read_only=True) as ckpt:
        state, _ = ckpt.restore(3, TEMPLATE)
        assert float(state["w"][0, 0]) == 3.0
        with pytest.raises(CheckpointError, match="is damaged or does not fit this model: ValueError: Requested shape"):
            ckpt.restore(3, {"w": jnp.zeros((8, 8)), "b": jnp.zeros(3, jnp.int32)})
    (folder / "2" / MANIFEST).unlink()
    (folder / "2" / "meta" / "metadata").write_text("{not json")
    with Checkpointer(folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match=r"checkpoint 2 .* is damaged or does not fit this model: JSONDecodeError"):
            ckpt.restore(2, TEMPLATE)


def test_none_good_is_one_line_naming_each(folder: Path) -> None:
    for epoch in (1, 2, 3):
        biggest_file(folder / str(epoch)).write_bytes(b"x")
    with Checkpointer(folder, read_only=True) as ckpt, warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError) as info:
            ckpt.restore_first_good(TEMPLATE)
    message = str(info.value)
    assert message.startswith(f"no usable checkpoint in {folder}") and "\n" not in message
    assert all(f"{e}: file" in message for e in (1, 2, 3))


def test_quarantine_moves_damaged_checkpoints_aside(folder: Path) -> None:
    with Checkpointer(folder) as ckpt:
        moved = ckpt.quarantine([3])
        assert ckpt.epochs() == [1, 2] and ckpt.latest_epoch() == 2
    assert [p.parent.name for p in moved] == ["checkpoints.damaged"] and (moved[0] / MANIFEST).is_file()
    with Checkpointer(folder, read_only=True) as reader, pytest.raises(CheckpointError, match="read-only"):
        reader.quarantine([2])


def test_read_only_creates_nothing(tmp_path: Path) -> None:
    with Checkpointer(tmp_path / "none", read_only=True) as ckpt:
        assert ckpt.epochs() == []
    assert not (tmp_path / "none").exists()
