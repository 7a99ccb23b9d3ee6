"""The Typer application behind ``artifex`` and its entry point :func:`main`.

Importing this module adds the built-in commands only and loads no plugin; :func:`main` then lets each
plugin add its own through the ``artifex_register_commands(cli)`` hook (:func:`add_plugin_commands`).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Annotated, Any

import typer

from artifex_core.cli._errors import EXIT_FAILURE, cli_errors, err_console
from artifex_core.cli._flags import FlagGroup, hide_flag_types
from artifex_core._host import host

__all__ = ["add_plugin_commands", "app", "main"]

app = typer.Typer(
    name="artifex",
    help="artifex-vae: train, sample and extend Variational Autoencoders on JAX + Flax NNX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    cls=FlagGroup,  # help pages show flags without a type (no `--json <bool>`)
)


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False)


def _version(value: bool) -> None:
    if value:
        from artifex_core import __version__

        typer.echo(f"artifex-vae {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """artifex-vae: train, sample and extend Variational Autoencoders on JAX + Flax NNX."""
    warnings.showwarning = _show_warning


_COMMAND_MODULES = (
    "artifex_core.cli._registry_cmds",
    "artifex_core.cli._build_cmds",
    "artifex_core.cli._train_cmds",
    "artifex_core.cli._sample_cmds",
    "artifex_core.cli._evaluate_cmds",
    "artifex_core.cli._report_cmds",
    "artifex_core.cli._data_cmds",
)
for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # a command group not built yet must not break the rest
        if _exc.name != _name:
            raise
        continue
    _module.register(app)
hide_flag_types(app)


def add_plugin_commands(cli: typer.Typer = app) -> None:
    """Load the plugins and call their ``artifex_register_commands(cli=cli)`` hook through pluggy.

    Cheap: a plugin's hook module registers lazy ``"module:attr"`` strings and imports no JAX. A plugin
    that raises is recorded as failed (``artifex plugins``) and warned about; a command whose name is taken
    is dropped, keeping the built-in. Calling it again for the same ``cli`` adds nothing twice.

    Example:
        A script serving artifex's app with the installed plugins' commands, as ``artifex`` does::

            from artifex_core.cli._app import add_plugin_commands, app

            add_plugin_commands(app)
            app()
    """
    host().register_commands(cli)
    hide_flag_types(cli)


def main() -> None:
    """Run the CLI; any unexpected error becomes one line on stderr and exit code 1."""
    warnings.showwarning = _show_warning
    try:
        with cli_errors():
            add_plugin_commands(app)
            app()
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except BaseException:  # pragma: no cover - cli_errors maps every Exception
        sys.exit(EXIT_FAILURE)
