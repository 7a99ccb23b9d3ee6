"""Read the ``Args:`` and ``Attributes:`` sections of a Google-style docstring: name -> (type, description).

Example:
    >>> parse_docstring_args('''Make one.
    ...
    ...     Args:
    ...         size (int): How big.
    ...         **extra: Anything else.
    ... ''')
    {'size': ('int', 'How big.'), 'extra': (None, 'Anything else.')}
"""

from __future__ import annotations

import re

__all__ = ["parse_docstring_args"]


_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "attributes", "fields"}
_ITEM = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(?:\((?P<type>[^)]*)\))?\s*:\s*(?P<desc>.*)$")


def parse_docstring_args(doc: str | None) -> dict[str, tuple[str | None, str]]:
    """The entries of a Google-style docstring's ``Args:`` (and ``Attributes:``) sections.

    Returns:
        Name -> ``(type or None, description)``, the description's lines joined by spaces. ``name (type):``
        gives the type; ``*args`` and ``**kwargs`` lose their stars.

    Example:
        >>> from artifex_core._introspect import docstring_from_source
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
