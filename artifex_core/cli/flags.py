"""Help pages that show plain flags as flags: ``--json``, not ``--json <bool>``.

Typer's rich help prints every option's type, flags included (``--resume <bool>``, even ``--help <bool>``),
which reads as if the flag took a value. The command and group classes here hide the type of an option
that takes no value; :func:`hide_flag_types` gives them to every command of an app, plugins' included.

Example:
    >>> import typer
    >>> from typer.testing import CliRunner
    >>> demo = typer.Typer(cls=FlagGroup)
    >>> @demo.command()
    ... def hello(loud: bool = False, name: str = "you") -> None:
    ...     print(name.upper() if loud else name)
    >>> @demo.command()
    ... def bye() -> None: ...
    >>> hide_flag_types(demo)
    >>> page = CliRunner().invoke(demo, ["hello", "--help"]).output
    >>> "<bool>" in page, "<str>" in page
    (False, True)
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

__all__ = ["FlagCommand", "FlagGroup", "hide_flag_types"]


def _hide(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # what the help shows in the type column; a flag takes no value to name
    return params


class FlagCommand(TyperCommand):
    """A Typer command whose help shows no type for its flags."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _hide(super().get_params(ctx))


class FlagGroup(TyperGroup):
    """A Typer group (the ``artifex`` app itself) whose help shows no type for its flags."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _hide(super().get_params(ctx))


def hide_flag_types(app: typer.Typer) -> None:
    """Give every command registered on ``app`` so far (and on its sub-apps) :class:`FlagCommand`.

    A command declared with a class of its own (other than Typer's default) keeps it. Call it again after
    more commands are added.
    """
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = FlagCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            hide_flag_types(group.typer_instance)
