"""The plugin's logger, ``good_log``: every epoch's losses, one line each, in ``RUN/good_log.txt``.

Written against artifex's public API only; imports no JAX.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> log = GoodLog(Path(tempfile.mkdtemp()), precision=2)
    >>> log.on_fit_start(None, 0)
    >>> log.on_epoch_end(None, {"epoch": 1, "step": 5, "train": {"loss": 3.14159}, "test": {"loss": 2.0}})
    >>> log.close()
    >>> log.path.read_text()
    'epoch 1 step 5 train_loss 3.14 test_loss 2.00\\n'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artifex_core.training import Logger

__all__ = ["GoodLog"]


class GoodLog(Logger):
    """Writes every epoch's train and test loss as one line of a text file in the run folder.

    On resume it keeps the lines up to the epoch resumed from, so each epoch has exactly one line.

    Args:
        run_dir: The run folder.
        filename: Name of the text file inside the run folder.
        precision: Decimal places of the losses.
    """

    def __init__(self, run_dir: Path, *, filename: str = "good_log.txt", precision: int = 4) -> None:
        super().__init__(run_dir)
        self.path = self.run_dir / filename
        self.precision = precision

    def on_fit_start(self, trainer: Any, start_epoch: int) -> None:
        """Drop the lines of epochs after ``start_epoch`` (a kill after logging, before the checkpoint)."""
        lines = self.path.read_text().splitlines(keepends=True) if self.path.is_file() else []
        self.path.write_text("".join(line for line in lines if int(line.split()[1]) <= start_epoch))

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        """Append the epoch's line."""
        p = self.precision
        line = (
            f"epoch {record['epoch']} step {record['step']} "
            f"train_loss {record['train']['loss']:.{p}f} test_loss {record['test']['loss']:.{p}f}\n"
        )
        with self.path.open("a") as f:
            f.write(line)
