"""One run folder read for reporting: its config, metric history, final and best epochs, evaluation, pictures.

Everything comes from the files ``artifex train`` and ``artifex evaluate`` write (``config.json``,
``metrics.jsonl``, ``evaluation.json``, the PNGs); nothing is loaded into JAX. The *best* epoch is the one with
the lowest test loss in ``metrics.jsonl`` (the criterion of the ``best`` checkpoint).

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> run = Path(tempfile.mkdtemp())
    >>> _ = (run / "config.json").write_text(json.dumps({"model": {"model": "vae"}, "train": {"epochs": 2}}))
    >>> _ = (run / "metrics.jsonl").write_text('{"epoch": 1, "test": {"loss": 3.0}}\\n{"epoch": 2, "test": {"loss": 4.0}}\\n')
    >>> summary = read_run(run)
    >>> summary.final["epoch"], summary.best["epoch"], summary.evaluation is None
    (2, 1, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artifex_core.training._run_dir import RunDir

__all__ = ["CURVES", "PICTURES", "RunSummary", "flatten", "read_run"]

CURVES = "curves.png"
"""The plot of the loss curves a run folder holds (drawn by the trainer)."""

PICTURES = (CURVES, "samples.png", "reconstructions.png", "traversals.png", "codebook_usage.png")
"""The pictures a run folder may hold, in the order a report shows them."""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys; lists stay values.

    Example:
        >>> flatten({"model": {"latent_dim": 2, "parameters": {"beta": 4}}, "x": [1, 2]})
        {'model.latent_dim': 2, 'model.parameters.beta': 4, 'x': [1, 2]}
    """
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            out.update(flatten(item, name))
        else:
            out[name] = item
    return out


def _test_loss(record: dict[str, Any]) -> float:
    test = record.get("test")
    value = test.get("loss") if isinstance(test, dict) else None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.inf


@dataclass(frozen=True)
class RunSummary:
    """What a run folder says about its run.

    Attributes:
        path: The run folder.
        config: ``config.json`` (``model``, ``train``, ``dataset``, ``artifex_version``, ``provenance``, ...).
        records: ``metrics.jsonl``, one dict per epoch.
        evaluation: ``evaluation.json`` when ``artifex evaluate`` wrote one, else ``None``.
        pictures: The pictures found, by file name (``curves.png``, ``samples.png``, ...), in display order.
    """

    path: Path
    config: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    pictures: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The folder's name."""
        return self.path.name or str(self.path)

    @property
    def model(self) -> str:
        """The registered model name of the run."""
        return str(self.config.get("model", {}).get("model", "?"))

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's record (empty before the first epoch ends)."""
        return self.records[-1] if self.records else {}

    @property
    def best(self) -> dict[str, Any]:
        """The record of the epoch with the lowest finite test loss (empty when none has one)."""
        scored = [r for r in self.records if math.isfinite(_test_loss(r))]
        return min(scored, key=_test_loss) if scored else {}

    def test_curve(self, term: str = "loss") -> tuple[list[int], list[float]]:
        """``(steps, values)`` of test term ``term``, one point per epoch that has it (steps: the epoch's
        last step, or the epoch number when no step was recorded)."""
        xs: list[int] = []
        ys: list[float] = []
        for r in self.records:
            test = r.get("test")
            value = test.get(term) if isinstance(test, dict) else None
            if isinstance(value, (int, float)) and math.isfinite(value):
                xs.append(int(r.get("step", r.get("epoch", len(xs) + 1))))
                ys.append(float(value))
        return xs, ys

    @property
    def provenance(self) -> dict[str, Any]:
        """What made the run: ``artifex_version`` and config.json's ``provenance`` (plugin, packages, python).

        A run written before provenance was recorded gets only its ``artifex_version``.
        """
        info: dict[str, Any] = {"artifex_version": self.config.get("artifex_version")}
        recorded = self.config.get("provenance")
        if isinstance(recorded, dict):
            info.update(recorded)
        return info


def read_run(path: str | Path) -> RunSummary:
    """Read the run folder ``path``.

    Raises:
        RunDirError: ``path`` does not exist or is not a run folder (no readable ``config.json`` with
            ``model`` and ``train`` mappings); the message names the folder.
    """
    run = RunDir(path)
    config = run.read_config()
    from artifex_core.training._evaluate import read_evaluation

    pictures = {name: run.path / name for name in PICTURES if (run.path / name).is_file()}
    return RunSummary(run.path, config, run.read_metrics(), read_evaluation(run.path), pictures)
