"""The history of a run's train config: each start or ``--resume`` is a segment, with what it changed.

``config.json`` holds the train config that a plain ``--resume`` continues with, and ``segments``: one entry
per start, ``{"from_epoch", "changes": {field: [before, after]}, "status"}``. When a segment diverges (the
loss became NaN), its changes are undone in ``train``, so a ``--resume --lr 1e6`` that blew up does not
make ``lr=1e6`` the run's new default; the segment keeps the record. :class:`SegmentRecorder` is the
trainer callback that keeps ``config.json`` so while a run trains. No JAX here.

Example:
    >>> first = start_segment(None, {"train": {"lr": 0.001, "epochs": 5}}, from_epoch=0)
    >>> again = start_segment(first, {"train": {"lr": 1e6, "epochs": 5}}, from_epoch=3)
    >>> again["segments"][-1]["changes"]
    {'lr': [0.001, 1000000.0]}
    >>> undone, reverted = end_segment(again, "diverged", step=40)
    >>> undone["train"]["lr"], reverted
    (0.001, {'lr': [0.001, 1000000.0]})
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from artifex_core.training.callbacks import Callback
from artifex_core.training.run_dir import RunDir

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    from artifex_core.training.trainer import Trainer

__all__ = ["SegmentRecorder", "end_segment", "start_segment", "train_changes"]


def train_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every train field whose value differs."""
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def start_segment(previous: Mapping[str, Any] | None, payload: dict[str, Any], *, from_epoch: int) -> dict[str, Any]:
    """The ``config.json`` payload of a new segment starting at ``from_epoch``.

    Args:
        previous: The run's ``config.json`` before (None for a new run).
        payload: The new config (``model``, ``train``, ...).
        from_epoch: The epoch of the checkpoint training continues from (0: from scratch).
    """
    out = copy.deepcopy(payload)
    segments = copy.deepcopy(previous.get("segments", [])) if previous else []
    before = previous.get("train", {}) if previous else {}
    changes = train_changes(before, out["train"]) if previous else {}
    segments.append({"from_epoch": int(from_epoch), "changes": changes, "status": "running"})
    out["segments"] = segments
    return out


def end_segment(config: dict[str, Any], status: str, **facts: Any) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Close the last segment with ``status`` ("finished", "diverged", "failed") and extra ``facts``.

    Returns:
        ``(config, reverted)``: a diverged segment's changes are undone in ``config["train"]`` and returned
        as ``reverted``; otherwise ``reverted`` is empty.
    """
    out = copy.deepcopy(config)
    segments = out.setdefault("segments", [{"from_epoch": 0, "changes": {}}])
    last = segments[-1]
    last.update(status=status, **facts)
    reverted: dict[str, list[Any]] = {}
    if status == "diverged" and last.get("changes"):
        reverted = dict(last["changes"])
        for key, (before, _after) in reverted.items():
            out["train"][key] = before
        last["reverted"] = True
    return out, reverted


class SegmentRecorder(Callback):
    """Keeps ``config.json``: the configs and this segment (from which epoch, what changed, how it ended).

    The segment starts in ``on_fit_start``, before the first step (so a run killed while compiling can be
    resumed) and after the checkpoint resumed from is restored (so ``from_epoch`` is the epoch training really
    continues from, past a damaged newest checkpoint too). :meth:`end` closes it.

    Args:
        run: The run folder.
        previous: Its ``config.json`` before this start (None for a new run).
        payload: The new ``config.json`` (``model``, ``train``, ...) without ``segments``.

    Example:
        >>> import tempfile
        >>> run = RunDir(tempfile.mkdtemp())
        >>> recorder = SegmentRecorder(run, None, {"model": {}, "train": {"lr": 0.1}})
        >>> recorder.on_fit_start(None, 0)
        >>> recorder.end("finished")
        {}
        >>> run.read_config()["segments"]
        [{'from_epoch': 0, 'changes': {}, 'status': 'finished'}]
    """

    def __init__(self, run: RunDir, previous: Mapping[str, Any] | None, payload: dict[str, Any]) -> None:
        self.run, self.previous, self.payload = run, previous, payload
        self.config: dict[str, Any] | None = None

    def on_fit_start(self, trainer: Trainer | None, start_epoch: int) -> None:
        """Write ``config.json`` with a new ``running`` segment from ``start_epoch``."""
        self.config = start_segment(self.previous, self.payload, from_epoch=start_epoch)
        self.run.write_config(self.config)

    def end(self, status: str, **facts: Any) -> dict[str, list[Any]]:
        """Close the segment (see :func:`end_segment`); returns the changes undone (a diverged run's)."""
        if self.config is None:
            return {}
        self.config, reverted = end_segment(self.config, status, **facts)
        self.run.write_config(self.config)
        return reverted
