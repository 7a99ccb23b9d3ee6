"""``curves.png``: the run's loss curves, redrawn from ``metrics.jsonl`` at fit start and every epoch's end.

:func:`~artifex_core.training.run.run_training` attaches a :class:`CurvesLogger` to every run, after the
``jsonl`` logger. Being a logger, a failure to draw is one warning, never a stopped run. Drawn from the
rows ``metrics.jsonl`` keeps, so after a resume the curves show the run's whole history and none of the
epochs that were dropped. matplotlib is imported when the first curve is drawn.

Example:
    >>> import tempfile
    >>> from artifex_core.training import RunDir
    >>> run = RunDir(tempfile.mkdtemp())
    >>> log = CurvesLogger(run.path)
    >>> log.on_fit_start(None, 0)  # no rows yet: nothing drawn
    >>> log.path.exists()
    False
    >>> log.on_epoch_end(None, {"epoch": 1, "step": 5, "train": {"loss": 1.0}, "test": {"loss": 1.2}, "lr": 1e-3})
    >>> log.path.name, log.path.exists()
    ('curves.png', True)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from artifex_core.training.loggers import Logger
from artifex_core.training.run_dir import RunDir

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from artifex_core.training.trainer import Trainer

__all__ = ["CURVES", "CurvesLogger"]

CURVES = "curves.png"
"""The file name of the curves in the run folder."""


class CurvesLogger(Logger):
    """Draws ``RUN/curves.png`` (:func:`artifex_core.charts.curves_figure`) from ``metrics.jsonl``.

    Args:
        run_dir: The run folder.

    Attributes:
        path: ``run_dir / "curves.png"``.
    """

    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir)
        self.run = RunDir(self.run_dir)
        self.path = self.run_dir / CURVES

    def draw(self, rows: list[dict[str, Any]]) -> None:
        """Write the curves of ``rows`` (nothing when there is none)."""
        if not rows:
            return
        from artifex_core.charts import save_curves

        save_curves(rows, self.path)

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        """Draw the rows kept up to ``start_epoch`` (a resumed run has curves before its first new epoch)."""
        self.draw([r for r in self.run.read_metrics() if int(r.get("epoch", 0)) <= start_epoch])

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """Draw the rows before ``record``'s epoch, then ``record`` (whatever the order of the loggers)."""
        epoch = int(record.get("epoch", 0))
        self.draw([*(r for r in self.run.read_metrics() if int(r.get("epoch", 0)) < epoch), record])
