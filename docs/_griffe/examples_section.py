"""A griffe extension for the docs build: tidy reST-isms in Google-style docstrings before they are parsed.

- A singular ``Example:`` section is read as ``Examples:``. griffe's Google parser knows only the plural
  title; a singular one would render as an admonition whose ``>>>`` lines become Markdown block quotes
  (and ``[...]`` outputs stray link references).
- Sphinx roles such as ``:class:`Registry``` or ``:func:`~artifex_core.load_config``` become inline
  code (the ``~`` form keeps the last component), instead of showing the role's colons.
- reST "simple tables" (rows framed by ``===  ===`` border lines) become Markdown tables; each word goes
  to the last column starting at or before it, which tolerates cells that overflow their column.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_TITLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")
_BORDER = re.compile(r"^(?P<indent>[ \t]*)=+(?: +=+)+[ \t]*$")


def _role(match: re.Match[str]) -> str:
    target = match["target"]
    if match["tilde"]:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _cells(line: str, starts: list[int]) -> list[str]:
    """Assign each word to the last column starting at or before it (so overflowing cells stay whole)."""
    cells: list[list[str]] = [[] for _ in starts]
    for word in re.finditer(r"\S+", line):
        column = max(i for i, s in enumerate(starts) if s <= word.start()) if word.start() >= starts[0] else 0
        cells[column].append(word.group())
    return [" ".join(words).replace("|", "\\|") for words in cells]


def _tables(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _BORDER.match(lines[i])
        borders = [j for j in range(i + 1, len(lines)) if _BORDER.match(lines[j])][:2] if match else []
        if match and len(borders) == 2 and all(lines[j].strip() for j in range(i + 1, borders[1])):
            indent = match["indent"]
            starts = [m.start() for m in re.finditer(r"=+", lines[i])]
            ncols = len(starts)
            header = _cells(lines[i + 1], starts)
            rows = [_cells(line, starts) for line in lines[borders[0] + 1 : borders[1]]]
            out.append(indent + "| " + " | ".join(header) + " |")
            out.append(indent + "|" + "---|" * ncols)
            out.extend(indent + "| " + " | ".join(row) + " |" for row in rows)
            i = borders[1] + 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def tidy(text: str) -> str:
    """Rename ``Example:`` sections, turn Sphinx roles into inline code and reST tables into Markdown."""
    return _tables(_ROLE.sub(_role, _TITLE.sub(r"\g<indent>Examples:", text)))


class ExampleSection(griffe.Extension):
    """Apply :func:`tidy` to every docstring griffe reads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Fix each object as it is created (docstrings are parsed later, at render time)."""
        if obj.docstring is not None:
            obj.docstring.value = tidy(obj.docstring.value)
