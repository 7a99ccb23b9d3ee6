"""Progress within one metric: a long metric (the IWAE bound) says how far it is; ``artifex evaluate`` shows it.

:func:`artifex_core.training.evaluate_run` runs each metric inside :func:`progress_scope` with a callback of
its progress display; the metric calls :func:`report_progress` as it goes (nothing happens outside a scope).
No JAX here.

Example:
    >>> seen = []
    >>> with progress_scope(lambda done, total: seen.append((done, total))):
    ...     report_progress(5, 10)
    >>> report_progress(1, 2)  # outside a scope: ignored
    >>> seen
    [(5, 10)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["ProgressCallback", "progress_scope", "report_progress"]

ProgressCallback = Callable[[int, int], None]
"""``(done, total) -> None``: units of work done so far (examples, ...) out of ``total``."""

_CURRENT: ContextVar[ProgressCallback | None] = ContextVar("artifex_metric_progress", default=None)


def report_progress(done: int, total: int) -> None:
    """Tell the progress display of the metric now running that ``done`` of ``total`` units are done."""
    callback = _CURRENT.get()
    if callback is not None:
        callback(int(done), int(total))


@contextmanager
def progress_scope(callback: ProgressCallback | None) -> Iterator[None]:
    """Route :func:`report_progress` calls to ``callback`` while the block runs."""
    token = _CURRENT.set(callback)
    try:
        yield
    finally:
        _CURRENT.reset(token)
