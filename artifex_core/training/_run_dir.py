"""The run folder: the user's data. ``config.json``, ``metrics.jsonl``, ``checkpoints/``, the pictures.

``config.json`` holds the resolved model and train configs (``{"model": {...}, "train": {...}, ...}``), so a run
can be resumed, sampled and evaluated from its folder alone. ``metrics.jsonl`` holds one JSON line per epoch,
epochs strictly increasing. A marker file, ``.artifex-run``, says that artifex made the folder: training
refuses a non-empty folder without it. Every file is replaced atomically (never torn, never written through
a symlink). No JAX here.

Example:
    >>> import tempfile
    >>> run = RunDir(tempfile.mkdtemp())
    >>> run.check_trainable(resume=False)
    >>> run.write_marker()
    >>> run.append_metrics({"epoch": 1, "train": {"loss": 2.0}})
    >>> run.append_metrics({"epoch": 2, "train": {"loss": 1.0}})
    >>> run.truncate_metrics(1)
    >>> [r["epoch"] for r in run.read_metrics()]
    [1]
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any

from artifex_core._atomic import atomic_write

__all__ = ["RunDir", "RunDirError"]

MARKER_FORMAT = 1


class RunDirError(ValueError):
    """A folder that is not a usable run folder (not artifex's, no ``config.json``, or in use)."""


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _epoch(record: dict[str, Any]) -> int:
    try:
        return int(record.get("epoch", 0))
    except (TypeError, ValueError):
        return 0


class RunDir:
    """Paths and files of one training run."""

    CONFIG = "config.json"
    METRICS = "metrics.jsonl"
    CHECKPOINTS = "checkpoints"
    MARKER = ".artifex-run"
    LOCK = ".lock"
    PICTURES = ("samples.png", "reconstructions.png", "traversals.png")

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        """``<run>/config.json``."""
        return self.path / self.CONFIG

    @property
    def metrics_path(self) -> Path:
        """``<run>/metrics.jsonl``."""
        return self.path / self.METRICS

    @property
    def checkpoints(self) -> Path:
        """``<run>/checkpoints``."""
        return self.path / self.CHECKPOINTS

    @property
    def marker_path(self) -> Path:
        """``<run>/.artifex-run``: written by artifex when it first trains into the folder."""
        return self.path / self.MARKER

    def exists(self) -> bool:
        """Whether the folder holds a ``config.json``."""
        return self.config_path.is_file()

    def has_checkpoints(self) -> bool:
        """Whether any finished checkpoint is on disk."""
        return self.checkpoints.is_dir() and any(
            p.is_dir() and p.name.isdigit() for p in self.checkpoints.iterdir()
        )

    # -- ownership ------------------------------------------------------------------------------
    def is_artifex_run(self) -> bool:
        """Whether artifex made this folder: its marker is a regular file (not a link) naming the format.

        A run written before markers existed (artifex 0.1) is recognised by the content of its
        ``config.json`` (model and train mappings and the ``artifex_version`` that wrote it).
        """
        marker = self.marker_path
        if marker.is_file() and not marker.is_symlink():
            try:
                return json.loads(marker.read_text()).get("format") == MARKER_FORMAT
            except (OSError, ValueError, AttributeError):
                return False
        if self.config_path.is_file() and not self.config_path.is_symlink():
            try:
                data = self.read_config()
            except RunDirError:
                return False
            return "artifex_version" in data
        return False

    def has_history(self) -> bool:
        """Whether a run has trained here (a checkpoint or a metrics row)."""
        return self.has_checkpoints() or bool(self.read_metrics())

    def check_trainable(self, *, resume: bool) -> None:
        """Refuse to train into a folder that holds someone's data, before anything is written.

        Allowed: a missing or empty folder, or an artifex run folder, which needs ``resume`` once it has
        trained.

        Raises:
            RunDirError: A file in place of the folder, a non-empty folder that artifex did not make, or a
                trained run without ``resume``.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"run folder {str(self.path)!r} is a file, not a folder")
        if not self.path.is_dir() or all(p.name == self.LOCK for p in self.path.iterdir()):
            return  # missing, empty, or holding only artifex's lock file
        if not self.is_artifex_run():
            raise RunDirError(
                f"{str(self.path)!r} is not empty and is not an artifex run folder (it has no {self.MARKER}); "
                "nothing was written: choose another --out or an empty folder"
            )
        if not resume and self.has_history():
            raise RunDirError(
                f"{str(self.path)!r} already holds a trained run; pass --resume to continue it or choose another --out"
            )

    def write_marker(self) -> None:
        """Mark the folder as an artifex run (kept when it exists)."""
        if self.marker_path.is_file() and not self.marker_path.is_symlink():
            return
        from artifex_core import __version__

        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        payload = {"format": MARKER_FORMAT, "artifex_version": __version__, "created": stamp}
        atomic_write(self.marker_path, json.dumps(payload) + "\n")

    # -- files ----------------------------------------------------------------------------------
    def write_json(self, name: str, payload: dict[str, Any]) -> Path:
        """Write ``payload`` as ``<run>/<name>`` atomically (temporary file, then rename)."""
        return atomic_write(self.path / name, json.dumps(_json_safe(payload), indent=2) + "\n")

    def write_config(self, payload: dict[str, Any]) -> Path:
        """Write ``config.json``."""
        return self.write_json(self.CONFIG, payload)

    def read_config(self) -> dict[str, Any]:
        """Read ``config.json``.

        Raises:
            RunDirError: Missing or not JSON.
        """
        if not self.path.is_dir():
            raise RunDirError(f"run folder {str(self.path)!r} does not exist")
        if not self.config_path.is_file():
            raise RunDirError(f"{str(self.path)!r} is not a run folder: it has no {self.CONFIG}")
        try:
            data = json.loads(self.config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunDirError(f"{self.config_path} is not valid JSON: {exc}") from None
        parts_ok = isinstance(data, dict) and all(isinstance(data.get(k), dict) for k in ("model", "train"))
        if not parts_ok:
            raise RunDirError(f"{self.config_path} must hold 'model' and 'train' mappings")
        return data

    def write_metrics(self, records: list[dict[str, Any]]) -> None:
        """Replace ``metrics.jsonl`` by ``records`` atomically (one JSON line each)."""
        text = "".join(json.dumps(_json_safe(r)) + "\n" for r in records)
        atomic_write(self.metrics_path, text)

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Add one epoch's record; rows of that epoch or later (from a run that crashed) are replaced.

        The file is rewritten atomically, so a crash leaves the previous version whole.
        """
        kept = [r for r in self.read_metrics() if _epoch(r) < _epoch(record)]
        self.write_metrics([*kept, record])

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every record of ``metrics.jsonl`` (empty when there is none; a torn or foreign line is skipped)."""
        if not self.metrics_path.is_file():
            return []
        out = []
        for line in self.metrics_path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    def truncate_metrics(self, last_epoch: int) -> None:
        """Keep only the records of epochs ``<= last_epoch``, one per epoch (used when resuming)."""
        kept: dict[int, dict[str, Any]] = {}
        for r in self.read_metrics():
            if 0 < _epoch(r) <= last_epoch:
                kept.setdefault(_epoch(r), r)
        if kept or self.metrics_path.exists():
            self.write_metrics([kept[e] for e in sorted(kept)])
