"""Describe registered classes without importing them (so ``artifex info`` needs no JAX).

The source file of a lazy ``"module:attr"`` target is located through the top-level package's search
path alone (no intermediate package is executed) and the class's ``__init__`` is read with :mod:`ast`
(:mod:`artifex_core._source_tree`). This module reads signatures, constants and docstrings; a pydantic
model's fields are read by :mod:`artifex_core._source_fields`, a docstring's ``Args:`` section by
:mod:`artifex_core._docstring_args`, and both are importable from here too (the 0.1 path
``artifex_core.introspect``).

Example:
    >>> params = signature_from_source("artifex_core._introspect:_Example")
    >>> [p["name"] for p in params]
    ['size', 'name']
"""

from __future__ import annotations

import ast
from typing import Any

from artifex_core._docstring_args import parse_docstring_args
from artifex_core._source_fields import fields_from_source
from artifex_core._source_tree import find_class, find_init, find_method, inherited, locate_node, parse

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
    func = find_method(target, method)
    if func is None:
        return None
    return _function_parameters(func, keyword_only=True), func.args.kwarg is not None


def defines_method(target: str, method: str) -> bool | None:
    """Whether class ``target`` or a base found from source defines ``method``; None if the class is not found."""
    if find_class(target) is None:
        return None
    return find_method(target, method) is not None


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

    found = inherited(target, own, depth)
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
    tree = parse(module)
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



def signature_from_source(target: str) -> list[dict[str, Any]] | None:
    """The ``__init__`` parameters of class ``target`` ("module:Class"): name, annotation, default, kind.

    Returns None when the class cannot be found without importing (defined elsewhere, or a function).
    """
    if find_class(target) is None:
        return None
    init = find_init(target)
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
    cls = find_class(target)
    return ast.get_docstring(cls) if cls is not None else None


def _literal_type(default: ast.expr | None) -> str | None:
    if default is None:
        return None
    try:
        value = ast.literal_eval(default)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return None if value is None else type(value).__name__


def _method_docstring(target: str, method: str) -> str | None:
    func = find_method(target, method)
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
    located = locate_node(target, (ast.ClassDef, ast.FunctionDef))
    if located is None:
        return None
    where, node = located
    if isinstance(node, ast.ClassDef):
        init = find_init(where)
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


