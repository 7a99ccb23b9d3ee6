"""The values a config may hold: plain JSON only, within limits, and the error naming the field that is not.

Config files and ``--set`` values must hold JSON values only (strings, finite numbers, booleans, null, lists,
mappings with string keys), nested at most :data:`MAX_DEPTH` levels and :data:`MAX_VALUES` values in all;
:func:`json_clean` checks a parsed value and copies it, anything else is a :class:`ConfigError` naming where
and the field. Also the helpers that show a value or a field path in such a message.

Example:
    >>> json_clean({"latent_dim": 8, "hidden_dims": (64,)}, "override")
    {'latent_dim': 8, 'hidden_dims': [64]}
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
from typing import Any

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "MAX_DEPTH",
    "MAX_VALUES",
    "ConfigError",
    "LongInt",
    "int_digit_limit",
    "json_clean",
    "path_text",
    "show",
]

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings a config file or ``--set`` value may have."""
MAX_VALUES = 100_000
"""Most values (scalars, lists, mappings; YAML aliases counted each time) a config may hold."""
INT64_MAX = 2**63 - 1
"""Largest integer magnitude a config file or ``--set`` value may hold."""
INT32_MAX = 2**31 - 1
"""Largest integer a model config may pass to a model: JAX computes with 32-bit integers by default."""

_ALLOWED_VALUES = "allowed: strings, finite numbers, true/false, null, lists and mappings with string keys"


class ConfigError(ValueError):
    """A config file that cannot be read or an override that cannot be applied."""


class LongInt:
    """Stands in for an integer literal too long for Python to convert (``sys.get_int_max_str_digits``)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def int_digit_limit() -> int | None:
    """The most digits Python converts to an integer (``sys.get_int_max_str_digits``), None when unlimited."""
    return sys.get_int_max_str_digits() or None


def show(value: Any, limit: int = 80) -> str:
    """``repr(value)``, shortened to ``limit`` characters, never failing (huge integers, odd objects).

    Example:
        >>> show("x" * 100, limit=8), show(10**400)
        ("'xxxxxx…", 'an integer of about 401 digits')
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {_digits(value)} digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _digits(value: int) -> int:
    return max(1, math.ceil(abs(value).bit_length() * math.log10(2)))


def path_text(path: tuple[str | int, ...]) -> str:
    """A field path as text, ``parameters.sizes[0]``, shortened to 120 characters."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text if len(text) <= 120 else text[:119] + "…"


def _describe(value: Any) -> str:
    """What a non-JSON value is, in words: ``a date (2024-01-01)``."""
    if isinstance(value, _dt.datetime):
        return f"a timestamp ({value.isoformat()})"
    if isinstance(value, _dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, _dt.time):
        return f"a time ({value.isoformat()})"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return f"a {type(value).__name__} ({show(value, 40)})"


def _json_problem(value: Any) -> str | None:
    """Why a scalar is not an acceptable JSON value, or None when it is one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, LongInt):
        return f"an integer of {value.digits} digits is out of range (at most {INT64_MAX} in magnitude)"
    if isinstance(value, int):
        if abs(value) > INT64_MAX:
            return f"{show(value)} is out of range (at most {INT64_MAX} in magnitude)"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number (JSON has no inf or nan)"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"the string {show(value, 40)} is not valid Unicode (it holds a lone surrogate)"
        return None
    return f"{_describe(value)} is not a JSON value ({_ALLOWED_VALUES})"


def json_clean(value: Any, where: str, path: tuple[str | int, ...] = ()) -> Any:
    """A deep copy of ``value`` made of plain JSON values only (tuples become lists).

    Example:
        >>> json_clean({"dims": (28, 28)}, "config")
        {'dims': [28, 28]}
        >>> json_clean({"beta": float("inf")}, "config")
        Traceback (most recent call last):
        ...
        artifex_core._config_values.ConfigError: config: beta: inf is not a finite number (JSON has no inf or nan)

    Raises:
        ConfigError: ``"{where}: {path}: {what is wrong}"`` for the first value that is not plain JSON, a
            mapping key that is not a string, nesting deeper than :data:`MAX_DEPTH` or more than
            :data:`MAX_VALUES` values.
    """
    budget = [MAX_VALUES]

    def fail(at: tuple[str | int, ...], problem: str) -> ConfigError:
        return ConfigError(f"{where}: {path_text(at)}: {problem}" if at else f"{where}: {problem}")

    def walk(node: Any, at: tuple[str | int, ...]) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise fail((), f"holds more than {MAX_VALUES} values (YAML aliases are counted each time they are used)")
        if isinstance(node, (dict, list, tuple)) and len(at) >= MAX_DEPTH:
            raise fail(at, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            out = {}
            for key, child in node.items():
                if not isinstance(key, str):
                    what = _describe(key) if isinstance(key, (_dt.date, _dt.time)) else show(key, 40)
                    raise fail(at, f"key {what} (type {type(key).__name__}) is not a string (quote it)")
                problem = _json_problem(key)
                if problem is not None:
                    raise fail(at, f"key: {problem}")
                out[key] = walk(child, (*at, key))
            return out
        if isinstance(node, (list, tuple)):
            return [walk(child, (*at, i)) for i, child in enumerate(node)]
        problem = _json_problem(node)
        if problem is not None:
            raise fail(at, problem)
        return node

    return walk(value, path)
