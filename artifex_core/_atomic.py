"""Atomic file writes: a temporary file in the same folder, flushed to disk, then renamed into place.

A reader sees the old file or the new one, never a torn one, and a crash or a full disk leaves the old
file untouched. The rename replaces a symlink at ``path`` by a regular file: a write never goes through
a link to somewhere else. No JAX here.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = atomic_write(target, "one\\n")
    >>> with atomic_open(target, "w") as f:
    ...     _ = f.write("two\\n")
    >>> target.read_text()
    'two\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - filesystems that refuse directory fsync
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", *, sync: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the ``with`` block ends without an error.

    Args:
        path: The file to write (its folder is created).
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        sync: ``fsync`` the file and its folder, so the new content survives a power cut.

    Raises:
        OSError: The folder cannot be written (a full disk, no permission); ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync:
        _fsync_dir(target.parent)


def atomic_write(path: str | Path, data: str | bytes, *, sync: bool = True) -> Path:
    """Replace ``path`` by ``data`` (text or bytes) atomically; returns the path.

    Raises:
        OSError: The file cannot be written; ``path`` is left as it was.
    """
    with atomic_open(path, "wb" if isinstance(data, bytes) else "w", sync=sync) as f:
        f.write(data)
    return Path(path)
