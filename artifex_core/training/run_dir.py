"""The run folder: ``config.json``, ``metrics.jsonl``, ``checkpoints/`` and the pictures.

``config.json`` holds the resolved model and train configs (``{"model": {...}, "train": {...}, ...}``), so a run
can be resumed, sampled and evaluated from its folder alone. ``metrics.jsonl`` holds one JSON line per epoch.
No JAX here.

Example:
    >>> import tempfile
    >>> run = RunDir(tempfile.mkdtemp())
    >>> run.append_metrics({"epoch": 1, "train": {"loss": 2.0}})
    >>> run.append_metrics({"epoch": 2, "train": {"loss": 1.0}})
    >>> run.truncate_metrics(1)
    >>> [r["epoch"] for r in run.read_metrics()]
    [1]
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["RunDir", "RunDirError"]


def _publish(tmp: str, target: Path) -> None:
    """Give a temporary file (created 0600) the usual permissions, then rename it into place atomically."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, target)


class RunDirError(ValueError):
    """A folder that is not a usable run folder (missing or unreadable ``config.json``)."""


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class RunDir:
    """Paths and files of one training run."""

    CONFIG = "config.json"
    METRICS = "metrics.jsonl"
    CHECKPOINTS = "checkpoints"
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

    def exists(self) -> bool:
        """Whether the folder holds a ``config.json``."""
        return self.config_path.is_file()

    def has_checkpoints(self) -> bool:
        """Whether any finished checkpoint is on disk."""
        return self.checkpoints.is_dir() and any(
            p.is_dir() and p.name.isdigit() for p in self.checkpoints.iterdir()
        )

    def write_json(self, name: str, payload: dict[str, Any]) -> Path:
        """Write ``payload`` as ``<run>/<name>`` atomically (temporary file, then rename)."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / name
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(_json_safe(payload), f, indent=2)
            f.write("\n")
        _publish(tmp, target)
        return target

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
        except json.JSONDecodeError as exc:
            raise RunDirError(f"{self.config_path} is not valid JSON: {exc}") from None
        parts_ok = isinstance(data, dict) and all(isinstance(data.get(k), dict) for k in ("model", "train"))
        if not parts_ok:
            raise RunDirError(f"{self.config_path} must hold 'model' and 'train' mappings")
        return data

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one epoch's record to ``metrics.jsonl``."""
        self.path.mkdir(parents=True, exist_ok=True)
        with self.metrics_path.open("a") as f:
            f.write(json.dumps(_json_safe(record)) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every record of ``metrics.jsonl`` (empty when there is none; a torn last line is skipped)."""
        if not self.metrics_path.is_file():
            return []
        out = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def truncate_metrics(self, last_epoch: int) -> None:
        """Keep only the records of epochs ``<= last_epoch`` (used when resuming)."""
        kept = [r for r in self.read_metrics() if int(r.get("epoch", 0)) <= last_epoch]
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=".jsonl")
        with os.fdopen(fd, "w") as f:
            for r in kept:
                f.write(json.dumps(r) + "\n")
        _publish(tmp, self.metrics_path)
