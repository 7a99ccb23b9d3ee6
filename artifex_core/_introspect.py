"""Describe registered classes without importing them (so ``artifex info`` needs no JAX).

The source file of a lazy ``"module:attr"`` target is located through the top-level package's search
path alone (no intermediate package is executed) and the class's ``__init__`` is read with :mod:`ast`.

Example:
    >>> params = signature_from_source("artifex_core._introspect:_Example")
    >>> [p["name"] for p in params]
    ['size', 'name']
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "class_constant",
    "defines_method",
    "describe_parameters",
    "docstring_from_source",
    "fields_from_source",
    "keyword_parameters",
    "module_constant",
    "parse_docstring_args",
    "signature_from_source",
]

T = TypeVar("T")


def _source_path(module: str) -> Path | None:
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
    found = _locate_node(target, (ast.ClassDef,), depth)
    return (found[0], found[1]) if found is not None and isinstance(found[1], ast.ClassDef) else None


def _locate_node(
    target: str, kinds: tuple[type[ast.AST], ...], depth: int = 0
) -> tuple[str, ast.ClassDef | ast.FunctionDef] | None:
    """Like :func:`_locate`, for a module-level definition of one of ``kinds`` (classes, functions)."""
    module, _, attr = target.partition(":")
    tree = _parse(module)
    if tree is None or depth > 8:
        return None
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and isinstance(node, kinds) and node.name == attr:
            return target, node
    imported = _imports(module).get(attr)
    return _locate_node(imported, kinds, depth + 1) if imported is not None else None


def _find_class(target: str) -> ast.ClassDef | None:
    located = _locate(target)
    return located[1] if located is not None else None


def _resolve_bases(target: str, cls: ast.ClassDef) -> list[str]:
    """``module:Class`` of each base of ``cls`` that is a plain name (same module or imported)."""
    module = target.partition(":")[0]
    imported = _imports(module)
    return [imported.get(b.id, f"{module}:{b.id}") for b in cls.bases if isinstance(b, ast.Name)]


def _inherited(target: str, look: Callable[[ast.ClassDef], T | None], depth: int = 0) -> T | None:
    """``look(cls)`` for class ``target``, else for its bases (same module or imported), depth first.

    The first result that is not None wins; None when no class of the hierarchy gives one (or it is not found).
    """
    located = _locate(target)
    if located is None or depth > 8:
        return None
    target, cls = located
    found = look(cls)
    if found is not None:
        return found
    for base in _resolve_bases(target, cls):
        found = _inherited(base, look, depth + 1)
        if found is not None:
            return found
    return None


def _find_method(target: str, name: str, depth: int = 0) -> ast.FunctionDef | None:
    """Method ``name`` of ``target`` or of the first base class (same module or imported) that defines one."""

    def own(cls: ast.ClassDef) -> ast.FunctionDef | None:
        return next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == name), None)

    return _inherited(target, own, depth)


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
        >>> params, var_keyword = keyword_parameters("artifex_core._introspect:_Example")
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
        >>> class_constant("artifex_core._introspect:_Example", "answer")
        42
    """

    def own(cls: ast.ClassDef) -> tuple[Any] | None:
        # Wrapped, so that a class's own ``name = None`` wins over a base's value.
        return next(((value,) for found, value in (_literal(n, name) for n in cls.body) if found), None)

    found = _inherited(target, own, depth)
    return found[0] if found is not None else None


def _literal(node: ast.stmt, name: str) -> tuple[bool, Any]:
    """``(True, value)`` when ``node`` assigns the literal ``value`` to ``name`` (``(True, None)`` for a
    non-literal value); ``(False, None)`` when it does not assign ``name``."""
    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
        value: ast.expr | None = node.value
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
        value = node.value
    else:
        return False, None
    try:
        return True, ast.literal_eval(value) if value is not None else None
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return True, None


def module_constant(target: str) -> Any:
    """The literal value of module-level name ``target`` (``"module:NAME"``), read from source (no import).

    Returns None when the module or the name is not found, or the value is not a literal.

    Example:
        >>> module_constant("artifex_core._introspect:_EXAMPLE_NAMES")
        ('a', 'b')
    """
    module, _, name = target.partition(":")
    tree = _parse(module)
    for node in tree.body if tree is not None else []:
        found, value = _literal(node, name)
        if found:
            return value
    return None


_EXAMPLE_NAMES = ("a", "b")
"""A module constant for the doctest of :func:`module_constant`."""


class _Example:
    """A class for the doctests of this module.

    Args:
        size (int): How big.
        name: What it is called,
            over two lines.
    """

    answer = 42

    def __init__(self, size: int, *, name: str = "x", **extra: Any) -> None:
        self.size, self.name, self.extra = size, name, extra


class _ExampleParams(BaseModel):
    """Params for the doctests of this module.

    Attributes:
        steps: Steps of warmup.
    """

    model_config = ConfigDict(frozen=True)
    kind: ClassVar[str] = "example"
    rate: float = Field(0.5, ge=0, description="How fast.")
    steps: int | None = None
    sizes: tuple[int, ...] = Field(default_factory=tuple)


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


_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "attributes", "fields"}
_ITEM = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(?:\((?P<type>[^)]*)\))?\s*:\s*(?P<desc>.*)$")


def parse_docstring_args(doc: str | None) -> dict[str, tuple[str | None, str]]:
    """The entries of a Google-style docstring's ``Args:`` (and ``Attributes:``) sections.

    Returns:
        Name -> ``(type or None, description)``, the description's lines joined by spaces. ``name (type):``
        gives the type; ``*args`` and ``**kwargs`` lose their stars.

    Example:
        >>> parse_docstring_args(docstring_from_source("artifex_core._introspect:_Example"))
        {'size': ('int', 'How big.'), 'name': (None, 'What it is called, over two lines.')}
    """
    found: dict[str, tuple[str | None, str]] = {}
    lines = (doc or "").expandtabs().splitlines()
    index = 0
    while index < len(lines):
        header = lines[index].strip().rstrip(":").lower()
        if not (lines[index].strip().endswith(":") and header in _SECTIONS):
            index += 1
            continue
        indent = len(lines[index]) - len(lines[index].lstrip())
        index += 1
        item_indent: int | None = None
        name: str | None = None
        while index < len(lines):
            line = lines[index]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break  # the section ended
            depth = len(line) - len(line.lstrip())
            if line.strip():
                if item_indent is None:
                    item_indent = depth
                match = _ITEM.match(line.strip()) if depth == item_indent else None
                if match is not None:
                    name = match["name"]
                    found[name] = (match["type"].strip() if match["type"] else None, match["desc"].strip())
                elif name is not None:
                    kind, desc = found[name]
                    found[name] = (kind, f"{desc} {line.strip()}".strip())
            index += 1
    return found


def _literal_type(default: ast.expr | None) -> str | None:
    if default is None:
        return None
    try:
        value = ast.literal_eval(default)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return None if value is None else type(value).__name__


def _method_docstring(target: str, method: str) -> str | None:
    func = _find_method(target, method)
    return ast.get_docstring(func) if func is not None else None


def describe_parameters(target: str) -> list[dict[str, Any]] | None:
    """What ``artifex info`` shows for a class (its ``__init__``) or function, read from source (no import).

    Each parameter: ``name``, ``type`` (the annotation; else the docstring's ``name (type):``; else the type
    of a literal default), ``default`` (source text, None when required), ``required``, ``kind`` and
    ``description`` (from the ``Args:`` section of the class or ``__init__`` docstring, or the function's).

    Returns:
        None when the target is found neither as a class nor as a function without importing.

    Example:
        >>> [(p["name"], p["type"], p["description"]) for p in describe_parameters("artifex_core._introspect:_Example")]
        [('size', 'int', 'How big.'), ('name', 'str', 'What it is called, over two lines.')]
    """
    located = _locate_node(target, (ast.ClassDef, ast.FunctionDef))
    if located is None:
        return None
    where, node = located
    if isinstance(node, ast.ClassDef):
        init = _find_init(where)
        func_params = _function_parameters(init) if init is not None else []
        docs = {**parse_docstring_args(_method_docstring(where, "__init__")),
                **parse_docstring_args(ast.get_docstring(node))}
        defaults = {a.arg: d for a, d in _defaults(init)} if init is not None else {}
    else:
        func_params = _function_parameters(node)
        docs = parse_docstring_args(ast.get_docstring(node))
        defaults = {a.arg: d for a, d in _defaults(node)}
    out = []
    for p in func_params:
        doc_type, description = docs.get(p["name"], (None, ""))
        kind = p["annotation"] or doc_type or _literal_type(defaults.get(p["name"]))
        out.append({**p, "type": kind, "description": description})
    return out


def _defaults(func: ast.FunctionDef) -> list[tuple[ast.arg, ast.expr | None]]:
    args = func.args
    positional = args.posonlyargs + args.args
    pos_defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    return [*zip(positional, pos_defaults, strict=True), *zip(args.kwonlyargs, args.kw_defaults, strict=True)]


def _field_call(value: ast.expr | None) -> ast.Call | None:
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "Field":
            return value
    return None


def _value(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return ast.unparse(node)


def fields_from_source(target: str, depth: int = 0) -> list[dict[str, Any]] | None:
    """The fields of a pydantic model class ``target``, read from source (inherited ones first).

    Each field: ``name``, ``type`` (the annotation's source text), ``default`` (the literal value, the
    source text of another expression, ``default_factory()`` as ``"factory()"``, None when required),
    ``required`` and ``description`` (``Field(description=...)``, else the class docstring's
    ``Attributes:`` entry). ``ClassVar`` attributes and ``model_config`` are not fields.

    Returns:
        None when the class is not found without importing.

    Example:
        >>> [(f["name"], f["type"], f["default"], f["description"])
        ...  for f in fields_from_source("artifex_core._introspect:_ExampleParams")]
        [('rate', 'float', 0.5, 'How fast.'), ('steps', 'int | None', None, 'Steps of warmup.'), ('sizes', 'tuple[int, ...]', 'tuple()', '')]
    """
    located = _locate(target)
    if located is None or depth > 8:
        return None
    where, cls = located
    fields: dict[str, dict[str, Any]] = {}
    for base in _resolve_bases(where, cls):
        for f in fields_from_source(base, depth + 1) or []:
            fields[f["name"]] = f
    docs = parse_docstring_args(ast.get_docstring(cls))
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name, annotation = node.target.id, ast.unparse(node.annotation)
        if name == "model_config" or annotation.split("[")[0].split(".")[-1] == "ClassVar":
            continue
        call = _field_call(node.value)
        description = docs.get(name, (None, ""))[1]
        default: Any = None
        required = node.value is None
        if call is not None:
            keywords = {k.arg: k.value for k in call.keywords if k.arg}
            if "description" in keywords:
                description = str(_value(keywords["description"]))
            if call.args and not (isinstance(call.args[0], ast.Constant) and call.args[0].value is Ellipsis):
                default = _value(call.args[0])
            elif "default" in keywords:
                default = _value(keywords["default"])
            elif "default_factory" in keywords:
                default = f"{ast.unparse(keywords['default_factory'])}()"
            else:
                required = True
        elif node.value is not None:
            default = _value(node.value)
        fields[name] = {"name": name, "type": annotation, "default": default, "required": required,
                        "description": description}
    return list(fields.values())
