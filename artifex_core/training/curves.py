"""``curves.png``: the run's loss curves, redrawn from ``metrics.jsonl`` after every epoch.

:func:`~artifex_core.training.run.run_training` attaches a :class:`CurvesCallback` to every run (in the
main process). It draws after each epoch's checkpoint, from the rows ``metrics.jsonl`` keeps, so after a
resume the curves show the run's whole history and none of the epochs that were dropped; a finished run
resumed with nothing left to train gets its curves at the fit's end. matplotlib is imported when the
first curve is drawn.

Drawing is not worth a run: a failure (a full disk, a broken font cache) is one :class:`LoggerWarning`,
and the curves are not redrawn for the rest of the run.

Example:
    >>> import tempfile
    >>> from artifex_core.training import FitResult, RunDir
    >>> run = RunDir(tempfile.mkdtemp())
    >>> curves = CurvesCallback(run.path)
    >>> curves.on_fit_end(None, FitResult())  # no rows yet: nothing drawn
    >>> curves.path.exists()
    False
    >>> run.append_metrics({"epoch": 1, "step": 5, "train": {"loss": 1.0}, "test": {"loss": 1.2}, "lr": 1e-3})
    >>> curves.on_epoch_end(None, {"epoch": 1})
    >>> curves.path.name, curves.path.exists()
    ('curves.png', True)
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artifex_core.training.callbacks import Callback, FitResult
from artifex_core.training.loggers import LoggerWarning
from artifex_core.training.run_dir import RunDir

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from artifex_core.training.trainer import Trainer

__all__ = ["CURVES", "CurvesCallback"]

CURVES = "curves.png"
"""The file name of the curves in the run folder."""


class CurvesCallback(Callback):
    """Draws ``RUN/curves.png`` (:func:`artifex_core.charts.curves_figure`) from ``metrics.jsonl``.

    Args:
        run_dir: The run folder.

    Attributes:
        path: ``run_dir / "curves.png"``.
        failed: The one-line error that switched drawing off, or None.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run = RunDir(run_dir)
        self.path = self.run.path / CURVES
        self.failed: str | None = None

    def draw(self) -> None:
        """Draw the rows of ``metrics.jsonl`` (nothing when it has none, or after a failure)."""
        if self.failed is not None:
            return
        rows = self.run.read_metrics()
        if not rows:
            return
        try:
            from artifex_core.charts import save_curves

            save_curves(rows, self.path)
        except Exception as exc:  # noqa: BLE001 - a chart is never worth a run
            self.failed = f"{type(exc).__name__}: {exc}".splitlines()[0]
            warnings.warn(
                f"{CURVES} could not be drawn and is not redrawn for the rest of the run: {self.failed}",
                LoggerWarning,
                stacklevel=2,
            )

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """Redraw after the epoch's checkpoint."""
        self.draw()

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        """Draw when this fit trained nothing (a finished run resumed)."""
        if not result.history:
            self.draw()
