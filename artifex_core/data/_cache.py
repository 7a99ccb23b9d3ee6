"""Where artifex caches things: ``$ARTIFEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/artifex``, else ``~/.cache/artifex``.

Example:
    >>> import os
    >>> os.environ["ARTIFEX_CACHE_DIR"] = "/tmp/artifex-cache-example"
    >>> str(cache_dir("datasets"))
    '/tmp/artifex-cache-example/datasets'
    >>> del os.environ["ARTIFEX_CACHE_DIR"]
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["cache_dir", "load_cached_arrays", "save_cached_arrays"]


def cache_dir(*parts: str) -> Path:
    """The artifex cache folder (not created), optionally a sub-folder of it."""
    root = os.environ.get("ARTIFEX_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "artifex"
    return base.joinpath(*parts)


def load_cached_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Arrays saved by :func:`save_cached_arrays`, or None when missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError):
        return None


def save_cached_arrays(path: Path, arrays: dict[str, Any]) -> bool:
    """Write arrays atomically (temporary file, then rename); False when the folder is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return False
    return True
