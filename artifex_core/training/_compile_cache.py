"""JAX's persistent compilation cache under the artifex cache folder (``~/.cache/artifex/jax``).

Compiled XLA programs are reused across processes: the second ``artifex train`` skips most compilation
(ARCHITECTURE.md measured time-to-first-step 3.8 s -> 1.3 s). The CLI turns it on; set
``ARTIFEX_NO_COMPILE_CACHE=1`` (or pass ``--no-compile-cache``) to keep it off.

Example:
    >>> import os
    >>> os.environ["ARTIFEX_NO_COMPILE_CACHE"] = "1"
    >>> enable_compile_cache() is None
    True
    >>> del os.environ["ARTIFEX_NO_COMPILE_CACHE"]
"""

from __future__ import annotations

import os
from pathlib import Path

from artifex_core.data._cache import cache_dir

__all__ = ["compile_cache_disabled", "enable_compile_cache"]


def compile_cache_disabled() -> bool:
    """Whether ``ARTIFEX_NO_COMPILE_CACHE`` asks to keep the cache off."""
    return os.environ.get("ARTIFEX_NO_COMPILE_CACHE", "").strip().lower() not in ("", "0", "false", "no")


def enable_compile_cache(path: str | Path | None = None) -> Path | None:
    """Turn on the persistent compilation cache in ``path`` (default ``<cache>/jax``).

    Returns:
        The cache folder, or None when disabled by the environment or the folder cannot be created.
    """
    if compile_cache_disabled():
        return None
    folder = Path(path) if path is not None else cache_dir("jax")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    try:  # take effect even if something was compiled before
        from jax.experimental.compilation_cache import compilation_cache

        compilation_cache.reset_cache()
    except (ImportError, AttributeError):  # pragma: no cover - older/newer JAX
        pass
    return folder
