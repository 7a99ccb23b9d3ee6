"""Describe registered classes without importing them (so ``artifex info`` needs no JAX).

The source file of a lazy ``"module:attr"`` target is located through the top-level package's search
path alone (no intermediate package is executed) and the class's ``__init__`` is read with :mod:`ast`.

Example:
    >>> params = signature_from_source("artifex_core.introspect:_Example")
    >>> [p["name"] for p in params]
    ['size', 'name']
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["class_constant", "defines_method", "docstring_from_source", "keyword_parameters", "signature_from_source"]


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


def _imports(module: str) -> dict[str, str]:
    """Names that ``module`` imports with ``from x import y`` (relative ones included) -> ``"x:y"``."""
    tree = _parse(module)
    if tree is None:
        return {}
    path = _source_path(module)
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


def _locate(target: str, depth: int = 0) -> tuple[str, ast.ClassDef] | None:
    """``(module:Class where it is defined, its ClassDef)``, following re-exports (``from .base import VAE``)."""
    module, _, attr = target.partition(":")
    tree = _parse(module)
    if tree is None or depth > 8:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attr:
            return target, node
    imported = _imports(module).get(attr)
    return _locate(imported, depth + 1) if imported is not None else None


def _find_class(target: str) -> ast.ClassDef | None:
    located = _locate(target)
    return located[1] if located is not None else None


def _resolve_bases(target: str, cls: ast.ClassDef) -> list[str]:
    """``module:Class`` of each base of ``cls`` that is a plain name (same module or imported)."""
    module = target.partition(":")[0]
    imported = _imports(module)
    return [imported.get(b.id, f"{module}:{b.id}") for b in cls.bases if isinstance(b, ast.Name)]


def _find_method(target: str, name: str, depth: int = 0) -> ast.FunctionDef | None:
    """Method ``name`` of ``target`` or of the first base class (same module or imported) that defines one."""
    located = _locate(target)
    if located is None or depth > 8:
        return None
    target, cls = located
    found = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
    if found is not None:
        return found
    for base in _resolve_bases(target, cls):
        found = _find_method(base, name, depth + 1)
        if found is not None:
            return found
    return None


def _find_init(target: str, depth: int = 0) -> ast.FunctionDef | None:
    """The ``__init__`` of ``target`` or of the first base class (same module or imported) that defines one."""
    return _find_method(target, "__init__", depth)


def keyword_parameters(target: str, method: str = "__init__") -> tuple[list[dict[str, Any]], bool] | None:
    """What method ``method`` of class ``target`` takes by keyword, read from source (inherited included).

    Returns:
        ``(params, var_keyword)``: the parameters that can be passed by keyword, described as by
        :func:`signature_from_source`, and whether the method also takes ``**kwargs``. None when the class
        or the method cannot be found without importing (then nothing is known about it).

    Example:
        >>> params, var_keyword = keyword_parameters("artifex_core.introspect:_Example")
        >>> [p["name"] for p in params], var_keyword
        (['size', 'name'], True)
    """
    func = _find_method(target, method)
    if func is None:
        return None
    return _function_parameters(func, keyword_only=True), func.args.kwarg is not None


def defines_method(target: str, method: str) -> bool | None:
    """Whether class ``target`` or a base found from source defines ``method``; None if the class is not found."""
    if _find_class(target) is None:
        return None
    return _find_method(target, method) is not None


def class_constant(target: str, name: str, depth: int = 0) -> Any:
    """The literal value of class attribute ``name`` of ``target`` (or an inherited one), read from source.

    Handles ``name = 3`` and ``name: ClassVar[int] = 3``; returns None when absent or not a literal.

    Example:
        >>> class_constant("artifex_core.introspect:_Example", "answer")
        42
    """
    located = _locate(target)
    if located is None or depth > 8:
        return None
    target, cls = located
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value: ast.expr | None = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            value = node.value
        else:
            continue
        try:
            return ast.literal_eval(value) if value is not None else None
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return None
    for base in _resolve_bases(target, cls):
        found = class_constant(base, name, depth + 1)
        if found is not None:
            return found
    return None


class _Example:
    """A class for the doctests of this module."""

    answer = 42

    def __init__(self, size: int, *, name: str = "x", **extra: Any) -> None:
        self.size, self.name, self.extra = size, name, extra


def signature_from_source(target: str) -> list[dict[str, Any]] | None:
    """The ``__init__`` parameters of class ``target`` ("module:Class"): name, annotation, default, kind.

    Returns None when the class cannot be found without importing (defined elsewhere, or a function).
    """
    if _find_class(target) is None:
        return None
    init = _find_init(target)
    if init is None:
        return []
    return _function_parameters(init)


def _function_parameters(func: ast.FunctionDef, keyword_only: bool = False) -> list[dict[str, Any]]:
    """The parameters of ``func`` but ``self`` (and positional-only ones when ``keyword_only``)."""
    args = func.args
    out: list[dict[str, Any]] = []
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        if arg.arg == "self" or (keyword_only and index < len(args.posonlyargs)):
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
