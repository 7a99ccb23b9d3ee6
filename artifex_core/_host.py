"""The plugin host: one object owning the registries, the pluggy ``PluginManager`` and the plugin statuses.

Installed plugins are found through the ``artifex.plugins`` entry-point group and loaded lazily, once, on
first registry use. Every hook declared in :mod:`artifex_core._hookspecs` is called through pluggy, one
plugin at a time: a plugin that fails to import, fails pluggy's validation (a misspelled hook or argument
name) or raises in a hook is recorded as failed, warned about once and rolled back (its registry entries
and commands removed), while everything else keeps working.

Environment:
    ARTIFEX_DISABLE_PLUGINS: comma-separated entry-point or distribution names, blocked in pluggy
        (``set_blocked``) before their import.
    ARTIFEX_STRICT_PLUGINS: "1" turns a plugin failure into a :class:`PluginLoadError`.

The process-wide host, :func:`host`, owns ``artifex_core.encoders`` and the other module-level
registries; :mod:`artifex_core._plugins` is a thin facade over it. The host keeps the state and the order
of things; its parts live beside it: :mod:`artifex_core._plugin_status` (a plugin's status and failure),
:mod:`artifex_core._host_pluggy` (the pluggy manager, hook validation) and
:mod:`artifex_core._host_commands` (the CLI commands plugins add). A host of one's own is isolated:

Example:
    >>> import artifex_core
    >>> from artifex_core._registry import Registries
    >>> local = PluginHost(Registries(), entry_points=list)  # its own registries, no installed plugin
    >>> class Zero:
    ...     @artifex_core.hookimpl
    ...     def artifex_register(self, registry):
    ...         registry.losses.register("zero", "operator:not_", summary="Always zero")
    >>> local.register(Zero(), name="zero").registered
    ['losses:zero']
    >>> local.registries.losses.entry("zero").qualified_id, "zero" in host().registries.losses
    ('zero:zero', False)
"""

from __future__ import annotations

import copy
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, NamedTuple

import pluggy

from artifex_core import _registry
from artifex_core._entry import PluginInfo, registering_as
from artifex_core._host_commands import CliCall, CliCalls, cli_names, keep_new_commands, owners, remove_all, restore_commands
from artifex_core._host_pluggy import new_manager, only, restore_plugins, validate_plugin
from artifex_core._plugin_status import STRICT_ENV, PluginLoadError, PluginLoadWarning, PluginStatus, record_failure, strict
from artifex_core._registry import Registries, RegistriesSnapshot

if TYPE_CHECKING:  # pragma: no cover - typer is imported by the CLI only
    import typer

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "STRICT_ENV",
    "HostSnapshot",
    "PluginHost",
    "PluginLoadError",
    "PluginLoadWarning",
    "PluginStatus",
    "host",
]

ENTRY_POINT_GROUP = "artifex.plugins"
"""The entry-point group that installed plugins declare."""
DISABLE_ENV = "ARTIFEX_DISABLE_PLUGINS"
BUILTIN = "builtin"
"""The built-in plugin's entry-point name: it loads first."""


class HostSnapshot(NamedTuple):
    """A :class:`PluginHost`'s whole state, from :meth:`PluginHost.snapshot` (opaque; restorable many times)."""

    registries: RegistriesSnapshot
    statuses: tuple[PluginStatus, ...]
    manager: pluggy.PluginManager
    plugins: tuple[tuple[str, object | None], ...]
    calls: tuple[tuple[str, tuple[CliCall, ...]], ...]
    loaded: bool


EntryPoints = Callable[[], Iterable[EntryPoint]]
"""Lists the entry points to load (default: the installed ``artifex.plugins`` group)."""


def _installed() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def _env_names(var: str) -> set[str]:
    return {s.strip() for s in os.environ.get(var, "").split(",") if s.strip()}


class PluginHost:
    """Owns the registries, the ``pluggy.PluginManager`` and the plugin statuses; loads plugins.

    Args:
        registries: The registries handed to ``artifex_register`` (default: fresh, empty ones). The host
            installs its loader on them, so their first lookup loads the plugins.
        entry_points: Lists the entry points to load (default: the installed ``artifex.plugins`` group).

    Example:
        >>> from artifex_core._registry import Registries
        >>> mine = PluginHost(Registries(), entry_points=list)
        >>> mine.load(), mine.loaded, mine.plugin_manager.project_name
        ([], True, 'artifex')
    """

    def __init__(self, registries: Registries | None = None, *, entry_points: EntryPoints | None = None) -> None:
        self.registries = registries if registries is not None else Registries()
        self._entry_points = entry_points or _installed
        self._lock = threading.RLock()
        self._statuses: dict[str, PluginStatus] = {}
        self._calls: dict[str, CliCalls] = {}
        self._loaded = False
        self._loading = False
        self._pm = new_manager()
        self.registries.set_loader(self._ensure_loaded)

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The ``pluggy.PluginManager("artifex")`` holding every registered (or blocked) plugin."""
        return self._pm

    @property
    def loaded(self) -> bool:
        """Whether the installed plugins were loaded (without loading them)."""
        return self._loaded

    # -- loading --------------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def load(self, *, force: bool = False) -> list[PluginStatus]:
        """Load every installed plugin once (idempotent; re-entrant calls from a plugin's hook are no-ops).

        Args:
            force: Forget what was loaded and load again (mostly for tests).

        Returns:
            The status of every plugin seen so far.

        Raises:
            PluginLoadError: If a plugin fails while ``ARTIFEX_STRICT_PLUGINS=1``.
        """
        with self._lock:
            if force:
                self.reset()
            if self._loaded or self._loading:
                return list(self._statuses.values())
            self._loading = True
            try:
                disabled = _env_names(DISABLE_ENV)
                for ep in sorted(self._entry_points(), key=lambda e: (e.name != BUILTIN, e.name)):
                    if ep.name not in self._statuses:
                        self._statuses[ep.name] = self._load_entry_point(ep, disabled)
                self._loaded = True
            finally:
                self._loading = False
            return list(self._statuses.values())

    def statuses(self) -> list[PluginStatus]:
        """Load the plugins if needed and return their statuses."""
        return self.load()

    def _load_entry_point(self, ep: EntryPoint, disabled: set[str]) -> PluginStatus:
        dist = ep.dist.name if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        status = PluginStatus(ep.name, dist, version)
        if ep.name in disabled or (dist is not None and dist in disabled):
            self._pm.set_blocked(ep.name)  # before import: never loaded, never registered
            status.status = "disabled"
            return status
        try:
            self._add(ep.load(), status)
        except Exception as exc:  # isolate every plugin
            record_failure(status, exc, "load")
        return status

    def register(self, plugin: object, *, name: str, dist: str | None = None, version: str | None = None) -> PluginStatus:
        """Register a plugin object directly (no entry point), through the same isolated path.

        Loads the installed plugins first, so this plugin's names sit beside theirs. A name blocked in
        the plugin manager gives a "disabled" status.

        Raises:
            ValueError: If a plugin of that name is already registered.
            PluginLoadError: If it fails while ``ARTIFEX_STRICT_PLUGINS=1``.
        """
        self._ensure_loaded()
        with self._lock:
            if name in self._statuses:
                raise ValueError(f"a plugin named {name!r} is already registered")
            status = PluginStatus(name, dist, version)
            if self._pm.is_blocked(name):
                status.status = "disabled"
            else:
                try:
                    self._add(plugin, status)
                except Exception as exc:
                    record_failure(status, exc, "load")
            self._statuses[name] = status
            return status

    def _add(self, plugin: object, status: PluginStatus) -> None:
        """Register ``plugin`` with pluggy, validate it and call its ``artifex_register``; undo on error."""
        try:
            if self._pm.register(plugin, name=status.name) is None:
                status.status = "disabled"  # blocked
                return
            validate_plugin(self._pm, plugin, status.name)
            with registering_as(PluginInfo(status.name, status.dist, status.version)):
                only(self._pm, plugin, "artifex_register")(registry=self.registries)
        except BaseException:
            self._roll_back(status.name)
            raise
        status.registered = self.registries.owned_by(status.name)

    # -- commands -------------------------------------------------------------------------------
    def register_commands(self, cli: typer.Typer) -> list[PluginStatus]:
        """Call every loaded plugin's ``artifex_register_commands(cli)`` once per ``cli``, one at a time.

        A plugin that raises is rolled back (its commands and registry entries) and recorded as failed. A
        command whose name is already taken (a built-in or an earlier plugin's) is dropped, noted in the
        plugin's status and warned about; in strict mode either is a :class:`PluginLoadError`.

        Returns:
            The status of every plugin.

        Example:
            >>> import typer, artifex_core
            >>> from artifex_core._registry import Registries
            >>> class Hello:
            ...     @artifex_core.hookimpl
            ...     def artifex_register_commands(self, cli):
            ...         cli.command("hello")(lambda: print("hello"))
            >>> mine, cli = PluginHost(Registries(), entry_points=list), typer.Typer()
            >>> mine.register(Hello(), name="hello").status
            'ok'
            >>> [s.commands for s in mine.register_commands(cli)]
            [['hello']]
        """
        self._ensure_loaded()
        with self._lock:
            for status in list(self._statuses.values()):
                plugin = self._pm.get_plugin(status.name)
                if status.status != "ok" or plugin is None:
                    continue
                if any(done is cli for done, _ in self._calls.get(status.name, [])):
                    continue
                self._add_commands(plugin, status, cli)
            return list(self._statuses.values())

    def _add_commands(self, plugin: object, status: PluginStatus, cli: typer.Typer) -> None:
        before = {w: list(getattr(cli, f"registered_{w}")) for w in ("commands", "groups")}
        owner = owners(self._calls, cli)
        taken = {n: owner.get(n, "built-in") for n in cli_names(cli)}

        def undo() -> None:
            for w, items in before.items():
                getattr(cli, f"registered_{w}")[:] = items
            self._roll_back(status.name)

        try:
            only(self._pm, plugin, "artifex_register_commands")(cli=cli)
        except Exception as exc:
            undo()
            record_failure(status, exc, "add its commands")
            return
        added, clashes = keep_new_commands(cli, before, taken, status.name)
        if clashes and strict():
            undo()
            record_failure(status, ValueError("; ".join(clashes)), "add its commands")
        self._calls.setdefault(status.name, []).append((cli, tuple(added)))
        status.commands = sorted({*status.commands, *(a.name for a in added)})
        if clashes:
            status.notes.extend(f"{c}: kept the existing one" for c in clashes)
            warnings.warn(
                f"plugin {status.name!r} ({status.dist or '?'} {status.version or '?'}): "
                f"{'; '.join(clashes)}; kept the existing command(s)",
                PluginLoadWarning,
                stacklevel=2,
            )

    # -- removal --------------------------------------------------------------------------------
    def _roll_back(self, name: str) -> None:
        """Remove everything plugin ``name`` added: registry entries, commands, its pluggy registration."""
        self.registries.unregister_plugin(name)
        remove_all(self._calls.pop(name, []))
        if self._pm.get_plugin(name) is not None:
            self._pm.unregister(name=name)

    def unregister(self, name: str) -> None:
        """Remove a plugin, everything it registered and the commands it added."""
        with self._lock:
            self._roll_back(name)
            self._statuses.pop(name, None)

    def reset(self) -> None:
        """Forget all plugins and their registrations (the next registry use loads them again)."""
        with self._lock:
            for name in list(self._statuses):
                self._roll_back(name)
            self._statuses.clear()
            self._pm = new_manager()
            self._loaded = False

    # -- snapshots ------------------------------------------------------------------------------
    def snapshot(self) -> HostSnapshot:
        """Capture the registries, statuses, plugin manager and added commands (loads nothing).

        Example:
            >>> saved = host().snapshot()
            >>> _ = host().registries.losses.register("scratch", abs)
            >>> host().restore(saved)
            >>> "scratch" in host().registries.losses
            False
        """
        with self._lock:
            return HostSnapshot(
                registries=self.registries.snapshot(),
                statuses=tuple(copy.deepcopy(s) for s in self._statuses.values()),
                manager=self._pm,
                plugins=tuple(self._pm.list_name_plugin()),
                calls=tuple((n, tuple(calls)) for n, calls in self._calls.items()),
                loaded=self._loaded,
            )

    def restore(self, snapshot: HostSnapshot) -> None:
        """Put back the state :meth:`snapshot` captured: plugins registered since are unregistered (their
        commands removed from the CLI), removed ones come back, statuses and registries are as they were."""
        with self._lock:
            self._pm = snapshot.manager
            restore_plugins(self._pm, dict(snapshot.plugins))
            restore_commands(self._calls.values(), (calls for _, calls in snapshot.calls))
            self._calls = {n: list(calls) for n, calls in snapshot.calls}
            self.registries.restore(snapshot.registries)
            self._statuses = {s.name: copy.deepcopy(s) for s in snapshot.statuses}
            self._loaded = snapshot.loaded


_DEFAULT = PluginHost(_registry.registries)


def host() -> PluginHost:
    """The process-wide host: it owns ``artifex_core.encoders`` (and the other module-level
    registries) and is what :mod:`artifex_core._plugins` and the CLI use.

    Example:
        >>> from artifex_core._registry import models
        >>> host().registries.models is models
        True
    """
    return _DEFAULT
