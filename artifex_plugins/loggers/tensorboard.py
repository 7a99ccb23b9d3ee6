"""The ``tensorboard`` logger: TensorBoard event files in ``RUN/tensorboard/``, written with tensorboardX.

``artifex train --logger tensorboard`` attaches it; ``tensorboard --logdir runs/`` then shows every run.
What it writes (tags from :mod:`artifex_core.training.tracking`, all at the global step):

- per epoch, ``metrics.jsonl``'s row: ``train/<term>`` and ``test/<term>`` (``train/loss``,
  ``test/kl_loss``, ``train/grad_norm``, ...), ``lr`` and ``perf/examples_per_s``, ``perf/epoch_time_s``,
  ``perf/eval_time_s``, ``perf/elapsed_s``;
- every ``log_every`` steps: ``train_log/<term>`` and ``train_log/lr``;
- the run folder's pictures of each epoch (with pictures on): ``images/samples``,
  ``images/reconstructions`` and ``images/traversals`` or ``images/codebook_usage``;
- once, the hyperparameters (the HParams plugin): ``model.*``, ``train.*`` and ``dataset.name`` from
  ``config.json``, against the metrics ``test/loss`` and ``train/loss``.

A resumed run (``on_fit_start`` at step ``S`` > 0, or a folder with event files) opens a new event file with
``purge_step=S + 1``: TensorBoard's reader then drops the events that the killed run wrote past its
checkpoint, so no step is shown twice.

Example:
    >>> import tempfile
    >>> log = TensorBoardLogger(tempfile.mkdtemp(), images=False)
    >>> log.on_fit_start(None, 0)
    >>> log.on_epoch_end(None, {"epoch": 1, "step": 4, "train": {"loss": 2.0}, "test": {"loss": 2.1}})
    >>> log.close()
    >>> len(list(log.logdir.glob("events.out.tfevents.*")))
    1
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artifex_core.training.loggers import Logger
from artifex_core.training.tracking import log_scalars, record_scalars, run_params

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from artifex_core.training.trainer import Trainer

__all__ = ["HPARAM_METRICS", "TensorBoardLogger"]

HPARAM_METRICS = ("test/loss", "train/loss")
"""The scalar tags the HParams dashboard shows beside the hyperparameters."""


class TensorBoardLogger(Logger):
    """Writes TensorBoard event files in ``RUN/tensorboard/`` (see the module docstring for the tags).

    Args:
        run_dir: The run folder.
        images: Log the pictures of each epoch.
        flush_secs: Flush pending events at least this often (events are also flushed at each epoch's end).

    Attributes:
        logdir: ``run_dir / "tensorboard"``.

    Raises:
        TypeError: An option of the wrong type.
        ValueError: ``flush_secs`` not positive.
        ImportError: tensorboardX is not installed (with the command that installs it).
    """

    DIR = "tensorboard"

    def __init__(self, run_dir: Path, *, images: bool = True, flush_secs: int = 30) -> None:
        super().__init__(run_dir)
        if not isinstance(images, bool):
            raise TypeError(f"tensorboard option 'images' must be true or false, got {images!r}")
        if isinstance(flush_secs, bool) or not isinstance(flush_secs, int) or flush_secs < 1:
            raise ValueError(f"tensorboard option 'flush_secs' must be a positive integer, got {flush_secs!r}")
        try:
            import tensorboardX  # noqa: F401 - fail when the logger is built, not in the first epoch
        except ImportError as exc:
            raise ImportError(f"the tensorboard logger needs tensorboardX: pip install tensorboardX ({exc})") from None
        self.images, self.flush_secs = images, flush_secs
        self.logdir = self.run_dir / self.DIR
        self._writer: Any = None

    def _previous(self) -> list[Path]:
        return sorted(self.logdir.glob("events.out.tfevents.*")) if self.logdir.is_dir() else []

    def _open(self, step: int) -> Any:
        from tensorboardX import SummaryWriter

        previous = self._previous()
        # A new file per fit; its suffix keeps the files in write order within one second (the reader reads
        # them sorted by name). purge_step drops what an earlier fit wrote past the step resumed from.
        self._writer = SummaryWriter(
            logdir=str(self.logdir),
            purge_step=step + 1 if previous or step > 0 else None,
            flush_secs=self.flush_secs,
            filename_suffix=f".{len(previous):04d}",
        )
        return self._writer

    @property
    def writer(self) -> Any:
        """The open ``tensorboardX.SummaryWriter`` (opened on first use)."""
        return self._writer if self._writer is not None else self._open(0)

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        """Open this fit's event file; a fresh log folder gets the hyperparameters."""
        step = int(getattr(trainer, "step", 0) or 0)
        fresh = not self._previous()
        if self._writer is not None:
            self._writer.close()
        self._open(step)
        if fresh:
            self._log_hparams(trainer)

    def _log_hparams(self, trainer: Any) -> None:
        from tensorboardX.summary import hparams

        params = run_params(self.run_dir, trainer)
        if not params:
            return
        experiment, start, end = hparams(params, {tag: 0.0 for tag in HPARAM_METRICS})
        for summary in (experiment, start, end):
            self.writer.file_writer.add_summary(summary)
        self.writer.flush()

    def on_log(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None:
        """``train_log/*`` at ``step``."""
        for tag, value in log_scalars(trainer, step, metrics).items():
            self.writer.add_scalar(tag, value, global_step=step)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """The epoch's row at its step, flushed."""
        step = int(record.get("step", 0))
        for tag, value in record_scalars(record).items():
            self.writer.add_scalar(tag, value, global_step=step)
        self.writer.flush()

    def on_images(self, trainer: Trainer, epoch: int, images: Mapping[str, np.ndarray]) -> None:
        """Each picture as ``images/<name>`` at the trainer's step."""
        if not self.images:
            return
        step = int(getattr(trainer, "step", epoch))
        for name, array in images.items():
            pixels = np.asarray(array)
            if pixels.ndim == 2:
                pixels = pixels[..., None]
            self.writer.add_image(f"images/{name}", pixels, global_step=step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
