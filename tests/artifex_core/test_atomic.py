"""Atomic writes: all or nothing, never through a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from artifex_core import atomic_open, atomic_write


def test_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("mine")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert target.read_text() == "mine"
    assert not link.is_symlink() and link.read_text() == "new"


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    atomic_write(path, b"old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_open(path, "wb") as f:
            f.write(b"half")
            raise RuntimeError("disk on fire")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_permissions_follow_the_umask_and_folders_are_created(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        path = atomic_write(tmp_path / "a" / "b" / "c.txt", "x")
    finally:
        os.umask(previous)
    assert path.read_text() == "x" and (path.stat().st_mode & 0o777) == 0o640
    with pytest.raises(ValueError, match="mode must be"):
        with atomic_open(path, "a"):
            pass
