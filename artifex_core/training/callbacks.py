"""What :meth:`~artifex_core.training.Trainer.fit` calls and returns: :class:`Callback` and :class:`FitResult`.

No JAX here, so a logger or callback module can subclass :class:`Callback` without importing it.

Example:
    >>> class Count(Callback):
    ...     def __init__(self) -> None:
    ...         self.epochs = 0
    ...     def on_epoch_end(self, trainer, record):
    ...         self.epochs += 1
    >>> counter = Count()
    >>> counter.on_epoch_end(None, {"epoch": 1})
    >>> counter.epochs, FitResult(history=[{"epoch": 1}]).final
    (1, {'epoch': 1})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from artifex_core.training.trainer import Trainer

__all__ = ["Callback", "FitResult"]


class Callback:
    """Hooks called by :meth:`Trainer.fit`; override what you need (all are no-ops here).

    Plain callbacks run in every process, in the order given, and an exception in one stops the run.
    Loggers (:class:`~artifex_core.training.loggers.Logger`) are callbacks with their own rules.
    """

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        """Before the first epoch of a :meth:`~Trainer.fit` call (``start_epoch`` > 0 when resuming, the epoch of
        the checkpoint restored, or when ``fit()`` is called again, the epoch the previous call stopped at)."""

    def on_log(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None:
        """After metrics were fetched from the device (every ``log_every`` steps and at epoch ends).

        ``step`` is the global step reached; ``metrics`` maps each scalar loss term (``loss``,
        ``reconstruction_loss``, ...) to its mean over the steps since the previous call.
        """

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """After an epoch was evaluated, logged and checkpointed (``record``: its ``metrics.jsonl`` row)."""

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        """After the last epoch (not called when the run fails)."""


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` returns.

    Attributes:
        history: The record of every epoch trained by this call (``metrics.jsonl`` rows).
        start_epoch: The epoch this call started from: 0 for a fresh trainer, the checkpoint's on resume, or
            where the previous ``fit()`` stopped.
        best_epoch: The epoch of the best checkpoint (lowest test loss), None without a run folder.
        elapsed_s: Training time in seconds: every ``fit()`` of the trainer so far, and the time before a
            resume.
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    start_epoch: int = 0
    best_epoch: int | None = None
    elapsed_s: float = 0.0

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's record (empty when no epoch ran)."""
        return self.history[-1] if self.history else {}
