"""Run reports: a run folder read for reporting, its self-contained HTML page, and runs compared. No JAX here.

- :mod:`~artifex_core.report._summary`: :func:`read_run`, a :class:`RunSummary` (config, metric history,
  final and best epochs, evaluation, pictures).
- :mod:`~artifex_core.report._html`: :func:`write_report`, the page ``artifex report`` writes.
- :mod:`~artifex_core.report._compare`: :func:`compare_runs`, :func:`render_compare` (``artifex compare``).
- :mod:`~artifex_core.report._plots`: the matplotlib plots, as SVG (matplotlib imported only to draw).
- :mod:`~artifex_core.report._provenance`: the plugin and package versions behind a run.

Example:
    >>> sorted(provenance(None))
    ['packages', 'plugin', 'python']
    >>> # write_report("runs/demo"); compare_runs(["runs/a", "runs/b"]).config_diff
"""

from __future__ import annotations

from artifex_core.report._compare import Comparison, compare_runs, render_compare, run_labels
from artifex_core.report._html import REPORT_FILE, render_report, write_report
from artifex_core.report._plots import loss_curves_svg, overlay_svg
from artifex_core.report._provenance import model_plugin, package_versions, provenance
from artifex_core.report._summary import CURVES, PICTURES, RunSummary, flatten, read_run

__all__ = [
    "CURVES",
    "PICTURES",
    "REPORT_FILE",
    "Comparison",
    "RunSummary",
    "compare_runs",
    "flatten",
    "loss_curves_svg",
    "model_plugin",
    "overlay_svg",
    "package_versions",
    "provenance",
    "read_run",
    "render_compare",
    "render_report",
    "run_labels",
    "write_report",
]
