"""One training epoch of a :class:`~artifex_core.training.Trainer`: its dispatches of the jitted step, and
the metrics fetched from the device every ``log_every`` steps.

A dispatch runs up to ``steps_per_dispatch`` steps in one call: on the device-resident path it gathers the
batches of the epoch's permutation on the device; on the streaming path it runs the batches the
:class:`~artifex_core.data._feeding.HostFeeder` put on the devices, with at most :data:`IN_FLIGHT` of them
queued. Metrics stay on the device until fetched; each fetch is checked for a NaN/inf loss
(``Trainer._check_finite``) and passed to the callbacks' and loggers' ``on_log``.

Example:
    >>> # trainer = Trainer(model, TrainConfig(epochs=1), dataset)
    >>> # trainer.epoch += 1; run_epoch(trainer)["loss"]  # what Trainer.fit does for each epoch
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from artifex_core.data._pipeline import epoch_permutation
from artifex_core.training._sharding import put_on_mesh, replicated_sharding

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core.training._trainer import Trainer

__all__ = ["IN_FLIGHT", "epoch_dispatches", "run_epoch"]

IN_FLIGHT = 2
"""Streamed dispatches the trainer lets the device queue before it waits for the oldest to finish."""


def _mean(chunks: list[dict[str, np.ndarray]]) -> dict[str, float]:
    keys = chunks[0].keys() if chunks else ()
    return {k: float(np.mean(np.concatenate([np.atleast_1d(c[k]) for c in chunks]))) for k in keys}


def epoch_dispatches(trainer: Trainer) -> Iterator[tuple[int, Callable[[], Any]]]:
    """The dispatches of ``trainer``'s current epoch: ``(steps, run)``, ``run()`` training those steps (it
    replaces the trainer's state) and returning their metrics, still on the device."""
    if trainer.feeder is not None:
        order = np.asarray(jax.device_get(epoch_permutation(trainer._order_key, trainer.epoch, trainer.feeder.size)))
        # at most IN_FLIGHT dispatches queued on the device (their fed batches alive), besides the prefetched
        # ones: asynchronous dispatch would otherwise queue every batch up to the next metrics fetch
        in_flight: deque[Any] = deque()
        for xs, ys, k in trainer.feeder.epoch(order, trainer.steps_per_epoch):
            def fed(xs: jax.Array = xs, ys: jax.Array | None = ys, k: int = k) -> Any:
                assert trainer._stream_fn is not None
                trainer._state_leaves, metrics = trainer._stream_fn(
                    trainer._state_leaves, xs, ys, trainer.binarize_key, trainer.step, k
                )
                in_flight.append(metrics)
                if len(in_flight) > IN_FLIGHT:
                    jax.block_until_ready(in_flight.popleft())
                return metrics

            yield k, fed
        return
    assert trainer.train_split is not None
    split = trainer.train_split
    perm = epoch_permutation(trainer.shuffle_key, trainer.epoch, split.size)
    perm = put_on_mesh(perm, replicated_sharding(trainer.mesh))
    index = 0
    while index < trainer.steps_per_epoch:
        k = min(trainer.steps_per_dispatch, trainer.steps_per_epoch - index)

        def gathered(index: int = index, k: int = k) -> Any:
            trainer._state_leaves, metrics = trainer._train_fn(
                trainer._state_leaves, split, perm, trainer.binarize_key, trainer.step, index, k,
                num_steps=trainer.steps_per_dispatch,
            )
            return metrics

        yield k, gathered
        index += k


def run_epoch(trainer: Trainer) -> dict[str, float]:
    """Train ``trainer``'s current epoch (``trainer.step`` advances); return its mean training metrics.

    Raises:
        NonFiniteLossError: A fetched loss is NaN or infinite (naming the first bad step).
    """
    cfg = trainer.config
    pending: list[tuple[dict[str, Any], int]] = []
    chunks: list[dict[str, np.ndarray]] = []
    pending_first = trainer.step
    index = 0
    for k, run in epoch_dispatches(trainer):
        metrics = run()
        pending.append((metrics, k))
        index += k
        trainer.step += k
        if trainer.step - pending_first >= cfg.log_every or index == trainer.steps_per_epoch:
            fetched = jax.device_get(pending)
            merged = {key: np.concatenate([f[key][:n] for f, n in fetched]) for key in fetched[0][0]}
            trainer._check_finite(merged["loss"], pending_first, "training")
            chunks.append(merged)
            pending, pending_first = [], trainer.step
            logged = {key: float(np.mean(v)) for key, v in merged.items()}
            for cb in trainer.callbacks:
                cb.on_log(trainer, trainer.step, logged)
            trainer.loggers.call("on_log", trainer, trainer.step, logged)
    return _mean(chunks)
