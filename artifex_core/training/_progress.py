"""A rich progress bar for training: loss, examples/s, ETA, and one line per finished epoch.

Example:
    >>> # Trainer(model, cfg, data, callbacks=[RichProgress(epochs=cfg.epochs)]).fit()
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from artifex_core.training._trainer import Callback, Trainer

__all__ = ["RichProgress"]


class RichProgress(Callback):
    """Progress over all steps of the run, updated whenever the trainer fetches metrics.

    Args:
        epochs: The run's number of epochs (for "epoch e/E").
        console: Where to draw (e.g. a stderr console, so stdout stays clean).
        show: False draws nothing (``--json`` / ``--quiet``).
    """

    def __init__(self, epochs: int, console: Console | None = None, show: bool = True) -> None:
        self.epochs, self.show = epochs, show
        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} ex/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not show,
        )
        self.task: Any = None
        self.last_step, self.last_time = 0, 0.0

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        self.progress.start()
        self.last_step, self.last_time = trainer.step, time.perf_counter()
        self.task = self.progress.add_task(
            "train", total=trainer.total_steps, completed=trainer.step, epoch=start_epoch + 1, epochs=self.epochs,
            loss="-", rate="-",
        )

    def on_log(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None:
        now = time.perf_counter()
        rate = (step - self.last_step) * trainer.config.batch_size / max(now - self.last_time, 1e-9)
        self.last_step, self.last_time = step, now
        loss = metrics.get("loss", float("nan"))
        self.progress.update(self.task, completed=step, epoch=trainer.epoch, loss=f"{loss:.3f}", rate=f"{rate:,.0f}")

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if not self.show:
            return
        test = record["test"]
        terms = ", ".join(f"{k} {v:.3f}" for k, v in test.items() if k != "loss")
        self.progress.console.print(
            f"epoch {record['epoch']}/{self.epochs}: train loss {record['train']['loss']:.3f}, "
            f"test loss {test.get('loss', float('nan')):.3f} ({terms}) in {record['epoch_time_s']:.1f} s, "
            f"{record['examples_per_s']:,.0f} ex/s",
            highlight=False,
        )
        self.last_time = time.perf_counter()  # evaluation time is not training time

    def close(self) -> None:
        """Stop drawing (call in a ``finally``)."""
        self.progress.stop()
