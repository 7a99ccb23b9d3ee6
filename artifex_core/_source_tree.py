"""Find a class or function in source without importing it: the module's file, its parsed tree, and the
definition, following re-exports (``from .base import VAE``) and base classes.

The source file of a ``"module:attr"`` target is located through the top-level package's search path alone
(no intermediate package is executed; an artifex 0.1 module name is read as its new module) and parsed
with :mod:`ast`, once per version of the file.

Example:
    >>> where, cls = locate("artifex_core._introspect:_Example")
    >>> where, cls.name, find_method(where, "__init__").args.kwarg.arg
    ('artifex_core._introspect:_Example', '_Example', 'extra')
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = [
    "find_class",
    "find_init",
    "find_method",
    "imports",
    "inherited",
    "locate",
    "locate_node",
    "parse",
    "resolve_bases",
    "source_path",
]

T = TypeVar("T")


def source_path(module: str) -> Path | None:
    """The source file of ``module`` found without importing it (a package's ``__init__.py``), or None."""
    from artifex_core._compat import MOVED  # an artifex 0.1 module name in a third-party target still reads

    module = MOVED[module][0] if module in MOVED else module
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


def parse(module: str) -> ast.Module | None:
    """The parsed source of ``module``, or None when it has no readable, valid source file."""
    path = source_path(module)
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parse_file(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _parse_file(path: Path, mtime_ns: int, size: int) -> ast.Module | None:
    """The parsed source of ``path``; cached per version of the file (config validation reads it often)."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def imports(module: str) -> dict[str, str]:
    """Names that ``module`` imports with ``from x import y`` (relative ones included) -> ``"x:y"``."""
    tree = parse(module)
    if tree is None:
        return {}
    path = source_path(module)
    package = module.split(".") if path is not None and path.name == "__init__.py" else module.split(".")[:-1]
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            source = node.module or ""
        else:
            keep = len(package) - (node.level - 1)
            if keep <= 0:
                continue
            source = ".".join(package[:keep] + ([node.module] if node.module else []))
        for alias in node.names:
            if source and alias.name != "*":
                found[alias.asname or alias.name] = f"{source}:{alias.name}"
    return found


def locate(target: str, depth: int = 0) -> tuple[str, ast.ClassDef] | None:
    """``(module:Class where it is defined, its ClassDef)``, following re-exports (``from .base import VAE``)."""
    found = locate_node(target, (ast.ClassDef,), depth)
    return (found[0], found[1]) if found is not None and isinstance(found[1], ast.ClassDef) else None


def locate_node(
    target: str, kinds: tuple[type[ast.AST], ...], depth: int = 0
) -> tuple[str, ast.ClassDef | ast.FunctionDef] | None:
    """Like :func:`locate`, for a module-level definition of one of ``kinds`` (classes, functions)."""
    module, _, attr = target.partition(":")
    tree = parse(module)
    if tree is None or depth > 8:
        return None
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and isinstance(node, kinds) and node.name == attr:
            return target, node
    imported = imports(module).get(attr)
    return locate_node(imported, kinds, depth + 1) if imported is not None else None


def find_class(target: str) -> ast.ClassDef | None:
    """The ``ClassDef`` of class ``target`` (``"module:Class"``, re-exports followed), or None."""
    located = locate(target)
    return located[1] if located is not None else None


def resolve_bases(target: str, cls: ast.ClassDef) -> list[str]:
    """``module:Class`` of each base of ``cls`` that is a plain name (same module or imported)."""
    module = target.partition(":")[0]
    imported = imports(module)
    return [imported.get(b.id, f"{module}:{b.id}") for b in cls.bases if isinstance(b, ast.Name)]


def inherited(target: str, look: Callable[[ast.ClassDef], T | None], depth: int = 0) -> T | None:
    """``look(cls)`` for class ``target``, else for its bases (same module or imported), depth first.

    The first result that is not None wins; None when no class of the hierarchy gives one (or it is not found).
    """
    located = locate(target)
    if located is None or depth > 8:
        return None
    target, cls = located
    found = look(cls)
    if found is not None:
        return found
    for base in resolve_bases(target, cls):
        found = inherited(base, look, depth + 1)
        if found is not None:
            return found
    return None


def find_method(target: str, name: str, depth: int = 0) -> ast.FunctionDef | None:
    """Method ``name`` of ``target`` or of the first base class (same module or imported) that defines one."""

    def own(cls: ast.ClassDef) -> ast.FunctionDef | None:
        return next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == name), None)

    return inherited(target, own, depth)


def find_init(target: str, depth: int = 0) -> ast.FunctionDef | None:
    """The ``__init__`` of ``target`` or of the first base class (same module or imported) that defines one."""
    return find_method(target, "__init__", depth)
