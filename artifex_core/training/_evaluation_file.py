"""The run folder's ``evaluation.json``: written atomically with its arguments and provenance, read back.

:func:`save_evaluation` keeps a report of :func:`~artifex_core.training._evaluate.evaluate_run` in the run
folder; :func:`read_evaluation` reads it (``artifex report`` shows it); :func:`json_safe` makes a report
JSON-ready.

Example:
    >>> json_safe({"loss": float("nan"), "shape": (2, 3)})
    {'loss': None, 'shape': [2, 3]}
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["EVALUATION_FILE", "json_safe", "read_evaluation", "save_evaluation"]

EVALUATION_FILE = "evaluation.json"
"""The report's file name in the run folder."""


def json_safe(value: Any) -> Any:
    """Non-finite floats as ``None`` (JSON has no NaN), tuples as lists; everything else as it is.

    Example:
        >>> json_safe({"a": (1.0, float("inf")), 2: "x"})
        {'a': [1.0, None], '2': 'x'}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def save_evaluation(
    report: Mapping[str, Any], arguments: Mapping[str, Any], *, path: str | Path | None = None
) -> tuple[dict[str, Any], Path]:
    """Write ``report`` with the ``arguments`` that made it as the run's ``evaluation.json``, atomically.

    The file holds the report (its ``checkpoint_epoch`` among it), ``arguments``, when it was written and
    the versions it ran on (:func:`artifex_core.report.provenance`). A crash leaves the previous
    file whole (:mod:`artifex_core._atomic`).

    Args:
        report: From :func:`evaluate_run`.
        arguments: What it was asked: metrics, options, ``k``, ``limit``, ``seed``, ``checkpoint``.
        path: Where to write (default: ``<run_dir>/evaluation.json``).

    Returns:
        ``(payload, path)``: what was written (JSON-ready: non-finite numbers as ``None``) and where.

    Raises:
        OSError: The file cannot be written; the old one is left as it was.

    Example:
        >>> import tempfile
        >>> run = tempfile.mkdtemp()
        >>> payload, where = save_evaluation({"run_dir": run, "metrics": {"x": {"v": float("nan")}}}, {"seed": 0})
        >>> read_evaluation(run)["metrics"], where.name, payload["arguments"]
        ({'x': {'v': None}}, 'evaluation.json', {'seed': 0})
    """
    from artifex_core._atomic import atomic_write
    from artifex_core.report._provenance import provenance

    target = Path(path) if path is not None else Path(str(report["run_dir"])) / EVALUATION_FILE
    payload = json_safe(
        {
            **report,
            "arguments": dict(arguments),
            "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "provenance": provenance(report.get("model")),
        }
    )
    atomic_write(target, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return payload, target


def read_evaluation(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's ``evaluation.json``, or ``None`` when there is none or it is not a JSON object.

    Example:
        >>> import tempfile
        >>> read_evaluation(tempfile.mkdtemp()) is None
        True
    """
    target = Path(run_dir) / EVALUATION_FILE
    try:
        data = json.loads(target.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
