"""Every hook a plugin may implement, declared once for pluggy (project ``"artifex"``).

A plugin marks its functions with :data:`hookimpl`; pluggy checks each one against the spec of the same
name below when the plugin is registered, so a misspelled hook or argument name is an error, not a no-op.

Example:
    >>> import artifex_core
    >>> @artifex_core.hookimpl
    ... def artifex_register(registry):
    ...     registry.losses.register("zero", "operator:not_", summary="Always zero")
    >>> @artifex_core.hookimpl
    ... def artifex_register_commands(cli):
    ...     @cli.command("hello")
    ...     def hello() -> None:
    ...         print("hello")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typer is imported by the CLI only
    import typer

    from artifex_core._registry import Registries

__all__ = ["PROJECT", "artifex_register", "artifex_register_commands", "hookimpl", "hookspec"]

PROJECT = "artifex"
"""pluggy's project name: markers of another project are not artifex hooks."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def artifex_register(registry: Registries) -> None:
    """Register components, lazily by ``"module:attr"`` string, on ``registry``'s ``encoders``, ``decoders``,
    ``losses``, ``models``, ``datasets``, ``recipes``, ``metrics`` and ``loggers``."""


@hookspec
def artifex_register_commands(cli: typer.Typer) -> None:
    """Add commands to the ``artifex`` command line with ``@cli.command("name")``; called by the CLI only.

    A command whose name is taken (a built-in or an earlier plugin's) is dropped and reported.
    """
