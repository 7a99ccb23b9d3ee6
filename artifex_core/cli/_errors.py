"""Clean CLI errors: one line on stderr and an exit code (0 ok, 1 failure, 2 usage), never a traceback.

Example:
    >>> import typer
    >>> try:
    ...     with cli_errors():
    ...         raise UsageError("unknown flag")
    ... except typer.Exit as exit_:
    ...     exit_.exit_code
    2
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from artifex_core._config import format_validation_error
from artifex_core._config_values import ConfigError
from artifex_core._plugins import PluginLoadError
from artifex_core._lookup_errors import AmbiguousNameError, UnknownNameError

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "CliFailure", "UsageError", "cli_errors", "err_console", "fail", "load_run_or_exit", "out_console"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class UsageError(Exception):
    """Bad input from the user: exit code 2."""


class CliFailure(Exception):
    """The command ran and failed: exit code 1."""


def fail(message: str, code: int = EXIT_FAILURE) -> typer.Exit:
    """Print ``error: message`` on stderr and return the ``typer.Exit`` to raise."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def load_run_or_exit(run_dir: Any, checkpoint: str) -> Any:
    """:func:`artifex_core.training.load_run`, its errors mapped to the CLI's exits.

    A bad run folder is a :class:`UsageError` (exit 2); an unreadable checkpoint prints ``error: ...`` and
    exits 1.

    Example:
        >>> # run = load_run_or_exit(Path("runs/mnist"), "best")
    """
    from artifex_core.training._manifest import CheckpointError
    from artifex_core.training._run import load_run
    from artifex_core.training._run_dir import RunDirError

    try:
        return load_run(run_dir, checkpoint)
    except RunDirError as exc:
        raise UsageError(str(exc)) from None
    except CheckpointError as exc:
        raise fail(_escape(str(exc)), EXIT_FAILURE) from None


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def _is_loop_noise(exc: BaseException | None) -> bool:
    return isinstance(exc, RuntimeError) and "Event loop is closed" in str(exc)


def _quiet_asyncio_noise() -> None:
    """Drop the "Event loop is closed" tracebacks that orbax's I/O threads print after a failed write.

    When a checkpoint write fails (a full disk), orbax closes its event loop while TensorStore still
    completes futures on it from its own threads; each prints a traceback. The error itself is reported
    once by :func:`cli_errors`.
    """
    if getattr(sys.excepthook, "_artifex_quiet", False):
        return
    previous, previous_thread, previous_unraisable = sys.excepthook, threading.excepthook, sys.unraisablehook

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if not _is_loop_noise(value):
            previous(kind, value, tb)

    def thread_hook(args: Any) -> None:
        if not _is_loop_noise(args.exc_value):
            previous_thread(args)

    def unraisable_hook(args: Any) -> None:
        if not _is_loop_noise(args.exc_value):
            previous_unraisable(args)

    excepthook._artifex_quiet = True  # type: ignore[attr-defined]  # a marker set on the function object
    sys.excepthook, threading.excepthook, sys.unraisablehook = excepthook, thread_hook, unraisable_hook


@contextmanager
def cli_errors() -> Iterator[None]:
    """Map known exceptions to one-line messages and exit codes."""
    _quiet_asyncio_noise()
    try:
        yield
    except typer.Exit:
        raise
    except ValidationError as exc:
        for line in format_validation_error(exc):
            err_console.print(f"[bold red]error:[/] {_escape(line)}")
        raise typer.Exit(EXIT_USAGE) from None
    except (UnknownNameError, AmbiguousNameError, ConfigError, UsageError) as exc:
        raise fail(_escape(str(exc)), EXIT_USAGE) from None
    except (PluginLoadError, CliFailure) as exc:
        raise fail(_escape(str(exc)), EXIT_FAILURE) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except Exception as exc:  # never a traceback, unless asked for
        if os.environ.get("ARTIFEX_DEBUG"):
            err_console.print(traceback.format_exc(), markup=False)
        resource = _resource_message(exc)
        if resource is not None:
            raise fail(_escape(resource), EXIT_FAILURE) from None
        raise fail(_escape(f"{type(exc).__name__}: {exc}") + " (set ARTIFEX_DEBUG=1 for the traceback)") from None


def _resource_message(exc: BaseException) -> str | None:
    """A full disk or exhausted memory, in one line (the checkpoints written before are intact)."""
    from artifex_core.training._resources import ResourceError, describe_resource_error

    if isinstance(exc, ResourceError):
        return str(exc)
    what = describe_resource_error(exc)
    if what is None:
        return None
    return f"{what}; stopped, and the checkpoints written before are intact"
