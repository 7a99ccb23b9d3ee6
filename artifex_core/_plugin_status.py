"""What happened to one plugin: its :class:`PluginStatus`, and the error and warning of a plugin that fails.

A plugin that fails to import, validate or run a hook is recorded as failed in its status and warned about
with a :class:`PluginLoadWarning`, or, with ``ARTIFEX_STRICT_PLUGINS=1``, raises a :class:`PluginLoadError`.

Example:
    >>> status = PluginStatus("zero", dist="artifex-zero", version="1.0", registered=["losses:zero"])
    >>> status.as_dict()["registered"], status.status
    (['losses:zero'], 'ok')
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["STRICT_ENV", "PluginLoadError", "PluginLoadWarning", "PluginStatus", "record_failure", "strict"]

STRICT_ENV = "ARTIFEX_STRICT_PLUGINS"
"""Set to "1" (or true, yes, on) to turn a plugin failure into a :class:`PluginLoadError`."""



class PluginLoadError(RuntimeError):
    """A plugin failed to import, validate or run a hook while ``ARTIFEX_STRICT_PLUGINS=1``."""


class PluginLoadWarning(UserWarning):
    """A plugin failed to import, validate or run a hook (or lost a command to a clash); the rest works."""


@dataclass
class PluginStatus:
    """What happened to one plugin.

    Attributes:
        name: Entry-point (or given) name; the prefix of its qualified ids.
        dist: Distribution that provides it.
        version: The distribution's version.
        status: "ok", "failed" or "disabled".
        error: One-line error for a failed plugin.
        registered: ``kind:name`` of everything it registered.
        commands: CLI commands it added (``artifex_register_commands``; only in a CLI process).
        notes: Non-fatal problems, e.g. a command dropped because its name was taken.
        traceback: The failure's traceback (not in :meth:`as_dict`).
    """

    name: str
    dist: str | None = None
    version: str | None = None
    status: str = "ok"
    error: str | None = None
    registered: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    traceback: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the traceback)."""
        data = asdict(self)
        data.pop("traceback")
        return data


def strict() -> bool:
    """Whether :data:`STRICT_ENV` asks for a plugin failure to be an error."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in f"{type(exc).__name__}: {exc}".splitlines()]
    return "; ".join(line for line in lines if line)


def record_failure(status: PluginStatus, exc: BaseException, what: str) -> None:
    """Record that the plugin of ``status`` failed to ``what`` ("load", "add its commands") with ``exc``.

    The status becomes "failed" with a one-line error and the traceback, and keeps nothing registered.

    Raises:
        PluginLoadError: With ``ARTIFEX_STRICT_PLUGINS=1``; otherwise a :class:`PluginLoadWarning` is
            warned, pointing at the caller.
    """
    status.status = "failed"
    status.error = _one_line(exc)
    status.registered, status.commands = [], []
    status.traceback = "".join(traceback.format_exception(exc))
    where = f"{status.dist or '?'} {status.version or '?'}"
    if strict():
        raise PluginLoadError(f"plugin {status.name!r} ({status.dist} {status.version}) failed: {status.error}") from exc
    warnings.warn(
        f"plugin {status.name!r} ({where}) failed to {what} and is skipped: {status.error}. "
        "Run `artifex plugins` for details.",
        PluginLoadWarning,
        stacklevel=2,
    )
