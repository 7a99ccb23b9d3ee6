"""Describe registered classes without importing them (so ``artifex info`` needs no JAX).

The source file of a lazy ``"module:attr"`` target is located through the top-level package's search
path alone (no intermediate package is executed) and the class's ``__init__`` is read with :mod:`ast`.

Example:
    >>> params = signature_from_source("artifex_core.registry:Registry")
    >>> [p["name"] for p in params]
    ['kind', 'autoload']
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["docstring_from_source", "signature_from_source"]


def _source_path(module: str) -> Path | None:
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin else None
    for base in spec.submodule_search_locations or []:
        stem = Path(base, *rest)
        for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _parse(module: str) -> ast.Module | None:
    path = _source_path(module)
    if path is None:
        return None
    try:
        return ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return None


def _find_class(target: str) -> ast.ClassDef | None:
    module, _, attr = target.partition(":")
    tree = _parse(module)
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attr:
            return node
    return None


def _find_init(target: str, depth: int = 0) -> ast.FunctionDef | None:
    """The ``__init__`` of ``target`` or of the first base class (same module or imported) that defines one."""
    cls = _find_class(target)
    if cls is None or depth > 8:
        return None
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is not None:
        return init
    module = target.partition(":")[0]
    tree = _parse(module)
    imported = {
        alias.asname or alias.name: f"{node.module}:{alias.name}"
        for node in (tree.body if tree else [])
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        for alias in node.names
    }
    for base in cls.bases:
        if isinstance(base, ast.Name):
            found = _find_init(imported.get(base.id, f"{module}:{base.id}"), depth + 1)
            if found is not None:
                return found
    return None


def signature_from_source(target: str) -> list[dict[str, Any]] | None:
    """The ``__init__`` parameters of class ``target`` ("module:Class"): name, annotation, default, kind.

    Returns None when the class cannot be found without importing (defined elsewhere, or a function).
    """
    if _find_class(target) is None:
        return None
    init = _find_init(target)
    if init is None:
        return []
    args = init.args
    out: list[dict[str, Any]] = []
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        if arg.arg == "self":
            continue
        out.append(_describe(arg, default, "positional"))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append(_describe(arg, default, "keyword"))
    return out


def _describe(arg: ast.arg, default: ast.expr | None, kind: str) -> dict[str, Any]:
    return {
        "name": arg.arg,
        "annotation": ast.unparse(arg.annotation) if arg.annotation is not None else None,
        "default": ast.unparse(default) if default is not None else None,
        "required": default is None,
        "kind": kind,
    }


def docstring_from_source(target: str) -> str | None:
    """The class docstring of ``target`` without importing it, or None."""
    cls = _find_class(target)
    return ast.get_docstring(cls) if cls is not None else None
