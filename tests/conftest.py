"""The test suite's own plugins (tests/plugins/), visible to the tests only, never installed.

``artifex-goodplugin`` and the deliberately broken ``artifex-brokenplugin`` are staged at the start of the
session in a temporary folder, each as its package plus a ``.dist-info`` (``METADATA`` and
``entry_points.txt`` written from its ``pyproject.toml``), the way ``pip install --target`` lays them out.
That folder goes first on ``sys.path`` and on ``PYTHONPATH`` (for the ``artifex`` subprocesses the tests
start), so ``importlib.metadata`` finds their entry points exactly as it finds an installed package's; at
the end of the session both are restored and the folder is removed. The user's environment never holds the
broken plugin, so no later ``artifex`` call warns about it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest

PLUGINS = Path(__file__).resolve().parent / "plugins"
_STAGED: dict[str, Any] = {}


def _entry_points(project: dict[str, Any]) -> str:
    lines = []
    for group, entries in project.get("entry-points", {}).items():
        lines += [f"[{group}]", *(f"{name} = {target}" for name, target in entries.items()), ""]
    return "\n".join(lines)


def stage_test_plugins(site: Path) -> list[str]:
    """Lay out every project under tests/plugins/ in ``site`` as an installed package; returns their names."""
    names = []
    for folder in sorted(p for p in PLUGINS.iterdir() if (p / "pyproject.toml").is_file()):
        pyproject = tomllib.loads((folder / "pyproject.toml").read_text())
        project, setuptools = pyproject["project"], pyproject.get("tool", {}).get("setuptools", {})
        for package in setuptools.get("packages", []):
            shutil.copytree(folder / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
        for module in setuptools.get("py-modules", []):
            shutil.copy2(folder / f"{module}.py", site / f"{module}.py")
        info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
            f"Summary: {project.get('description', '')}\n"
        )
        (info / "entry_points.txt").write_text(_entry_points(project))
        names.append(project["name"])
    return names


def pytest_configure(config: pytest.Config) -> None:
    site = Path(tempfile.mkdtemp(prefix="artifex-test-plugins-"))
    stage_test_plugins(site)
    _STAGED.update(site=site, pythonpath=os.environ.get("PYTHONPATH"))
    sys.path.insert(0, str(site))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)


def pytest_unconfigure(config: pytest.Config) -> None:
    site = _STAGED.pop("site", None)
    if site is None:
        return
    if str(site) in sys.path:
        sys.path.remove(str(site))
    previous = _STAGED.pop("pythonpath")
    if previous is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = previous
    shutil.rmtree(site, ignore_errors=True)
