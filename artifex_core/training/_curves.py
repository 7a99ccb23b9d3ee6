"""``curves.png``: the run's loss curves, redrawn from ``metrics.jsonl`` as the run goes.

:func:`~artifex_core.training.run_training` attaches a :class:`CurvesCallback` to every run (in the
main process). It draws after an epoch's checkpoint, from the rows ``metrics.jsonl`` keeps, so after a
resume the curves show the run's whole history and none of the epochs that were dropped. Drawing costs
about 0.4 s (plus matplotlib's import the first time), so during a fit it redraws at most every
``min_interval_s`` seconds (30 by default: a killed run's curves are at most that old), and always at the
fit's end, a finished run resumed with nothing left to train included. matplotlib is imported when the
first curve is drawn. Given a :class:`~artifex_core.training._writer.BackgroundWriter` (as a run's is), the
drawing happens on its thread while training goes on (the rows are read before), and the fit's end waits for it.

Drawing is not worth a run: a failure (a full disk, a broken font cache) is one :class:`LoggerWarning`,
and the curves are not redrawn for the rest of the run.

Example:
    >>> import tempfile
    >>> from artifex_core.training import FitResult, RunDir
    >>> run = RunDir(tempfile.mkdtemp())
    >>> curves = CurvesCallback(run.path, min_interval_s=0)
    >>> curves.on_fit_end(None, FitResult())  # no rows yet: nothing drawn
    >>> curves.path.exists()
    False
    >>> run.append_metrics({"epoch": 1, "step": 5, "train": {"loss": 1.0}, "test": {"loss": 1.2}, "lr": 1e-3})
    >>> curves.on_epoch_end(None, {"epoch": 1})
    >>> curves.path.name, curves.path.exists()
    ('curves.png', True)
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artifex_core.training._callbacks import Callback, FitResult
from artifex_core.training._loggers import LoggerWarning
from artifex_core.training._run_dir import RunDir
from artifex_core.training._writer import BackgroundWriter

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from artifex_core.training._trainer import Trainer

__all__ = ["CURVES", "CurvesCallback"]

CURVES = "curves.png"
"""The file name of the curves in the run folder."""


class CurvesCallback(Callback):
    """Draws ``RUN/curves.png`` (:func:`artifex_core.curves_figure`) from ``metrics.jsonl``.

    Args:
        run_dir: The run folder.
        min_interval_s: During a fit, redraw after an epoch only if the last drawing (or the fit's start) is
            at least this many seconds old; the fit's end always draws what is not drawn yet.
        writer: Draw on this background writer's thread (None: in the caller's).

    Attributes:
        path: ``run_dir / "curves.png"``.
        failed: The one-line error that switched drawing off, or None.
    """

    def __init__(
        self, run_dir: str | Path, *, min_interval_s: float = 30.0, writer: BackgroundWriter | None = None
    ) -> None:
        self.run = RunDir(run_dir)
        self.path = self.run.path / CURVES
        self.failed: str | None = None
        self.min_interval_s = float(min_interval_s)
        self.writer = writer
        self._last = time.monotonic()
        self._stale = False
        self._warned = False

    def draw(self) -> None:
        """Draw the rows of ``metrics.jsonl`` (nothing when it has none, or after a failure).

        With a writer, the rows are read now and drawn on its thread (:meth:`BackgroundWriter.join` waits).
        """
        self._warn()
        if self.failed is not None:
            return
        rows = self.run.read_metrics()
        if not rows:
            return
        self._last, self._stale = time.monotonic(), False
        if self.writer is None:
            self._save(rows)
            self._warn()
        else:
            self.writer.submit(lambda: self._save(rows))

    def _save(self, rows: list[dict[str, Any]]) -> None:
        try:
            from artifex_core._charts import save_curves

            save_curves(rows, self.path)
        except Exception as exc:  # noqa: BLE001 - a chart is never worth a run
            self.failed = f"{type(exc).__name__}: {exc}".splitlines()[0]

    def _warn(self) -> None:
        """The one warning of a failure (given in the training thread, when it is seen)."""
        if self.failed is not None and not self._warned:
            self._warned = True
            warnings.warn(
                f"{CURVES} could not be drawn and is not redrawn for the rest of the run: {self.failed}",
                LoggerWarning,
                stacklevel=3,
            )

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        """Start the redraw clock."""
        self._last = time.monotonic()

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """Redraw after the epoch's checkpoint, unless the last drawing is recent."""
        if time.monotonic() - self._last >= self.min_interval_s:
            self.draw()
        else:
            self._stale = True

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        """Draw the epochs not drawn yet, or everything when this fit trained nothing (a finished run resumed)."""
        if self.writer is not None:
            self.writer.join()  # the drawing under way, and what it tells of the file
        if self._stale or not result.history or not self.path.exists():
            self.draw()
        if self.writer is not None:
            self.writer.join()
            self._warn()
