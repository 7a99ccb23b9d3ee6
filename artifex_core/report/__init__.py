"""Run reports: what made a run, one self-contained HTML page per run, and a comparison of runs. No JAX here.

- :mod:`~artifex_core.report.provenance`: the plugin and package versions behind a run.

Example:
    >>> sorted(provenance(None))
    ['packages', 'plugin', 'python']
"""

from __future__ import annotations

from artifex_core.report.provenance import model_plugin, package_versions, provenance

__all__ = ["model_plugin", "package_versions", "provenance"]
