"""The core names no built-in: no ``artifex_plugins`` import or module string in its code (docstrings may
point readers to the built-in plugin)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "artifex_core"


def _docstrings(tree: ast.Module) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def _mentions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("artifex_plugins"):
            hits.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            hits += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("artifex_plugins")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if "artifex_plugins" in node.value:
                hits.append(f"line {node.lineno}: {node.value[:60]!r}")
    return hits


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_does_not_name_the_built_in_plugin(path: Path) -> None:
    assert _mentions(path) == []


def test_the_check_finds_a_mention(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text('"""Docs may say artifex_plugins."""\nimport artifex_plugins.vae\nX = "artifex_plugins.data._mnist"\n')
    assert _mentions(sample) == ["line 2: import artifex_plugins.vae", "line 3: 'artifex_plugins.data._mnist'"]
