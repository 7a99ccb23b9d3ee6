"""An exclusive lock on a run folder: one writer at a time, named in the message a second one gets.

The lock is ``<run>/.lock``, held with ``flock`` for as long as the writer runs and holding the writer's
pid, host, start time and command. The kernel drops an ``flock`` when its process dies, so a run killed
with ``kill -9`` never leaves a stale lock: the file stays, but the next writer takes it over. Where a
filesystem has no ``flock`` (some network mounts), the file itself is the lock (created exclusively), and
a lock file whose pid no longer runs on this host is detected as stale and replaced. No JAX here.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with RunLock(folder) as lock:
    ...     try:
    ...         RunLock(folder).acquire()
    ...     except RunLockedError as exc:
    ...         print("in use by pid" in str(exc))
    True
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from artifex_core.training.run_dir import RunDir, RunDirError

__all__ = ["RunLock", "RunLockedError", "holding_lock", "holds_lock"]

LOCK_NAME = RunDir.LOCK
_HELD: set[str] = set()  # run folders whose lock this process holds


class RunLockedError(RunDirError):
    """Another process holds the run folder's lock. ``holder`` is what its lock file says."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - alive, owned by someone else
        return True
    return True


def _describe(holder: dict[str, Any]) -> str:
    pid, host = holder.get("pid", "?"), holder.get("host", "?")
    since = f" since {holder['started']}" if holder.get("started") else ""
    command = f" ({holder['command']})" if holder.get("command") else ""
    return f"pid {pid} on {host}{since}{command}"


class RunLock:
    """The exclusive writer's lock of one run folder (a context manager; re-entrant use is an error).

    Args:
        folder: The run folder (created if missing).
        command: What the holder does, shown to a second writer (default: the process's command line).
    """

    def __init__(self, folder: str | Path, command: str | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.command = command if command is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        self._fd: int | None = None
        self._file_only = False

    def _holder(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _refuse(self) -> RunLockedError:
        holder = self._holder()
        return RunLockedError(
            f"run folder {str(self.folder)!r} is in use by {_describe(holder)}; "
            "wait for it to finish or stop it (sample and evaluate work meanwhile)",
            holder,
        )

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            return os.open(self.path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise RunDirError(f"{str(self.path)!r} is a symlink; remove it (artifex never writes through links)")
            raise

    def _acquire_file_only(self) -> None:
        """The fallback without ``flock``: the lock file is created exclusively; a dead holder is stale."""
        for _ in range(2):
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
                self._file_only = True
                return
            except FileExistsError:
                holder = self._holder()
                stale = holder.get("host") == socket.gethostname() and not _pid_alive(int(holder.get("pid", -1)))
                if not stale:
                    raise self._refuse() from None
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
        raise self._refuse()

    def check_free(self) -> None:
        """Raise :class:`RunLockedError` if another process holds the lock now (nothing is created).

        Raises:
            RunLockedError: Held by another process, or by this one.
        """
        if str(self.folder.resolve()) in _HELD:
            raise self._refuse()
        if not self.path.is_file() or self.path.is_symlink():
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise self._refuse() from None
        except OSError:  # no flock here: the file-only fallback decides when acquiring
            return
        finally:
            os.close(fd)  # closing drops a lock taken just now

    def acquire(self) -> RunLock:
        """Take the lock.

        Raises:
            RunLockedError: Another live process holds it (the message names its pid, host and command).
        """
        if self._fd is not None:
            raise RuntimeError("this RunLock is already held")
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._refuse() from None
        except OSError as exc:  # no flock on this filesystem
            os.close(fd)
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL):
                raise
            self._acquire_file_only()
            fd = self._fd  # type: ignore[assignment]  # _acquire_file_only set it or raised
        self._fd = fd
        _HELD.add(str(self.folder.resolve()))
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": self.command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        return self

    def release(self) -> None:
        """Drop the lock (the lock file stays, emptied, unless it was the file-only fallback)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        _HELD.discard(str(self.folder.resolve()))
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        if self._file_only:
            with contextlib.suppress(OSError):
                self.path.unlink()
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holds_lock(folder: str | Path) -> bool:
    """Whether this process holds ``folder``'s lock now.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> with RunLock(folder):
        ...     holds_lock(folder)
        True
        >>> holds_lock(folder)
        False
    """
    return str(Path(folder).resolve()) in _HELD


@contextlib.contextmanager
def holding_lock(folder: str | Path, command: str | None = None) -> Iterator[None]:
    """Hold ``folder``'s lock for the ``with`` block, unless this process holds it already (then a no-op).

    Raises:
        RunLockedError: Another process holds it.
    """
    if holds_lock(folder):
        yield
        return
    with RunLock(folder, command):
        yield
