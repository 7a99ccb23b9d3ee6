"""Getting JAX ready for a command that computes: absl's logging quieted, XLA's compilation cache on.

Importing this module imports no JAX; :func:`setup_jax` is called once a command is about to use it.

Example:
    >>> import logging
    >>> quiet_absl()
    >>> logging.getLogger("absl").level == logging.CRITICAL
    True
"""

from __future__ import annotations

import logging

__all__ = ["quiet_absl", "setup_jax"]


def quiet_absl() -> None:
    """Silence absl's logging: errors are reported once, by :func:`~artifex_core.cli._errors.cli_errors`."""
    logging.getLogger("absl").setLevel(logging.CRITICAL)


def setup_jax(no_compile_cache: bool) -> None:
    """:func:`quiet_absl`, then turn on the persistent XLA compilation cache unless ``no_compile_cache``."""
    quiet_absl()
    if not no_compile_cache:
        from artifex_core.training._compile_cache import enable_compile_cache

        enable_compile_cache()
