"""The fields of a pydantic model class read from source (``artifex info`` for a variant's parameters).

Example:
    >>> [f["name"] for f in fields_from_source("artifex_core._source_fields:_ExampleParams")]
    ['rate', 'steps', 'sizes']
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from artifex_core._docstring_args import parse_docstring_args
from artifex_core._source_tree import locate, resolve_bases

__all__ = ["fields_from_source"]


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
        ...  for f in fields_from_source("artifex_core._source_fields:_ExampleParams")]
        [('rate', 'float', 0.5, 'How fast.'), ('steps', 'int | None', None, 'Steps of warmup.'), ('sizes', 'tuple[int, ...]', 'tuple()', '')]
    """
    located = locate(target)
    if located is None or depth > 8:
        return None
    where, cls = located
    fields: dict[str, dict[str, Any]] = {}
    for base in resolve_bases(where, cls):
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
