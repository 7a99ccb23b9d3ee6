"""Plugin loading through pluggy and the ``artifex.plugins`` entry-point group: the default host's API.

A plugin is a module (or object) with functions marked ``@artifex_core.hookimpl``, implementing the hooks
declared in :mod:`artifex_core._hookspecs`: ``artifex_register(registry)`` (``registry`` has the attributes
``encoders``, ``decoders``, ``losses``, ``models``, ``datasets``, ``recipes``, ``metrics`` and ``loggers``)
and ``artifex_register_commands(cli)`` (``cli`` is the ``typer.Typer`` app). Installed plugins are found by
entry point and loaded lazily, once, on first registry use. Each plugin's import and hook calls are
isolated: a failing plugin is recorded and warned about, and what it registered is rolled back, while
everything else keeps working.

The functions below delegate to the process-wide :class:`~artifex_core.PluginHost`,
:func:`artifex_core.host`, which holds all the state.

Environment:
    ARTIFEX_DISABLE_PLUGINS: comma-separated entry-point or distribution names to block before import.
    ARTIFEX_STRICT_PLUGINS: "1" turns a plugin failure into a :class:`PluginLoadError`.

Example:
    >>> import artifex_core
    >>> class MyPlugin:
    ...     @artifex_core.hookimpl
    ...     def artifex_register(self, registry):
    ...         registry.losses.register("zero", lambda pred, x: 0.0, summary="Always zero")
    >>> status = register_plugin(MyPlugin(), name="my-plugin")
    >>> status.status, status.registered
    ('ok', ['losses:zero'])
    >>> unregister_plugin("my-plugin")
"""

from __future__ import annotations

import pluggy

from artifex_core._hookspecs import PROJECT, hookimpl, hookspec
from artifex_core._host import ENTRY_POINT_GROUP, host
from artifex_core._plugin_status import PluginLoadError, PluginLoadWarning, PluginStatus

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT",
    "PluginLoadError",
    "PluginLoadWarning",
    "PluginStatus",
    "hookimpl",
    "hookspec",
    "load_plugins",
    "plugin_manager",
    "plugin_statuses",
    "register_plugin",
    "reset_plugins",
    "unregister_plugin",
]


def plugin_manager() -> pluggy.PluginManager:
    """The default host's ``pluggy.PluginManager("artifex")``."""
    return host().plugin_manager


def load_plugins(*, force: bool = False) -> list[PluginStatus]:
    """Load every installed plugin once (idempotent; re-entrant calls from plugins are no-ops).

    Args:
        force: Forget what was loaded and load again (mostly for tests).

    Returns:
        The status of every plugin seen so far.
    """
    return host().load(force=force)


def plugin_statuses() -> list[PluginStatus]:
    """Load the plugins if needed and return their statuses."""
    return host().statuses()


def register_plugin(plugin: object, *, name: str, dist: str | None = None, version: str | None = None) -> PluginStatus:
    """Register a plugin object directly (no entry point), through the same isolated path.

    Loads the installed plugins first, so this plugin's names sit beside theirs.

    Raises:
        ValueError: If a plugin of that name is already registered.
    """
    return host().register(plugin, name=name, dist=dist, version=version)


def unregister_plugin(name: str) -> None:
    """Remove a plugin and everything it registered."""
    host().unregister(name)


def reset_plugins() -> None:
    """Forget all plugins and their registrations (the next registry use loads them again)."""
    host().reset()
