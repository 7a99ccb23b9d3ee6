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
registries; :mod:`artifex_core._plugins` is a thin facade over it. A host of one's own is isolated:

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
import difflib
import os
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, NamedTuple

import pluggy

from artifex_core import _hookspecs as hookspecs
from artifex_core import _registry
from artifex_core._hookspecs import PROJECT
from artifex_core._entry import PluginInfo, registering_as
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
STRICT_ENV = "ARTIFEX_STRICT_PLUGINS"
BUILTIN = "builtin"
"""The built-in plugin's entry-point name: it loads first."""


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


class _Added(NamedTuple):
    """One command (``registered_commands``) or group (``registered_groups``) a plugin put on a CLI."""

    cli: typer.Typer
    where: str
    info: Any
    name: str


class HostSnapshot(NamedTuple):
    """A :class:`PluginHost`'s whole state, from :meth:`PluginHost.snapshot` (opaque; restorable many times)."""

    registries: RegistriesSnapshot
    statuses: tuple[PluginStatus, ...]
    manager: pluggy.PluginManager
    plugins: tuple[tuple[str, object | None], ...]
    calls: tuple[tuple[str, tuple[tuple[typer.Typer, tuple[_Added, ...]], ...]], ...]
    loaded: bool


EntryPoints = Callable[[], Iterable[EntryPoint]]
"""Lists the entry points to load (default: the installed ``artifex.plugins`` group)."""


def _installed() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def _env_names(var: str) -> set[str]:
    return {s.strip() for s in os.environ.get(var, "").split(",") if s.strip()}


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in f"{type(exc).__name__}: {exc}".splitlines()]
    return "; ".join(line for line in lines if line)


def _command_names(where: str, info: Any) -> list[str]:
    """The names Typer will give a registered command or group (an unnamed group lends its commands)."""
    if where == "commands":
        return [info.name or info.callback.__name__.lower().replace("_", "-")]
    from typer.main import solve_typer_info_defaults

    name = solve_typer_info_defaults(info).name
    if name:
        return [name]
    return _cli_names(info.typer_instance)


def _cli_names(cli: typer.Typer) -> list[str]:
    return [n for w in ("commands", "groups") for i in getattr(cli, f"registered_{w}") for n in _command_names(w, i)]


def _remove(added: _Added) -> None:
    items = getattr(added.cli, f"registered_{added.where}")
    items[:] = [i for i in items if i is not added.info]


def _put_back(added: _Added) -> None:
    items = getattr(added.cli, f"registered_{added.where}")
    if not any(i is added.info for i in items):
        items.append(added.info)


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
        self._calls: dict[str, list[tuple[typer.Typer, tuple[_Added, ...]]]] = {}
        self._loaded = False
        self._loading = False
        self._pm = self._new_manager()
        self.registries.set_loader(self._ensure_loaded)

    @staticmethod
    def _new_manager() -> pluggy.PluginManager:
        pm = pluggy.PluginManager(PROJECT)
        pm.add_hookspecs(hookspecs)
        return pm

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
            self._fail(status, exc, "load")
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
                    self._fail(status, exc, "load")
            self._statuses[name] = status
            return status

    def _add(self, plugin: object, status: PluginStatus) -> None:
        """Register ``plugin`` with pluggy, validate it and call its ``artifex_register``; undo on error."""
        try:
            if self._pm.register(plugin, name=status.name) is None:
                status.status = "disabled"  # blocked
                return
            self._validate(plugin, status.name)
            with registering_as(PluginInfo(status.name, status.dist, status.version)):
                self._only(plugin, "artifex_register")(registry=self.registries)
        except BaseException:
            self._roll_back(status.name)
            raise
        status.registered = self.registries.owned_by(status.name)

    def _validate(self, plugin: object, name: str) -> None:
        """pluggy verified the arguments of known hooks on ``register``; reject unknown hooks (pluggy's
        ``check_pending``, for this plugin only) and a plugin that implements no hook at all."""
        known = sorted(n for n, c in vars(self._pm.hook).items() if not n.startswith("_") and c.has_spec())
        callers = self._pm.get_hookcallers(plugin) or []
        if not callers:
            raise pluggy.PluginValidationError(
                plugin, f"plugin {name!r} implements no hook: mark one of {', '.join(known)} with @artifex_core.hookimpl"
            )
        for caller in callers:
            impls = [i for i in caller.get_hookimpls() if i.plugin is plugin and not i.optionalhook]
            if not caller.has_spec() and impls:
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (hooks: {', '.join(known)})"
                raise pluggy.PluginValidationError(plugin, f"unknown hook {caller.name!r} in plugin {name!r}{hint}")

    def _only(self, plugin: object, hook: str) -> pluggy.HookCaller:
        """A caller of ``hook`` that runs ``plugin``'s implementation only."""
        others = [p for _, p in self._pm.list_name_plugin() if p is not None and p is not plugin]
        return self._pm.subset_hook_caller(hook, remove_plugins=others)

    def _fail(self, status: PluginStatus, exc: BaseException, what: str) -> None:
        status.status = "failed"
        status.error = _one_line(exc)
        status.registered, status.commands = [], []
        status.traceback = "".join(traceback.format_exception(exc))
        where = f"{status.dist or '?'} {status.version or '?'}"
        if _strict():
            raise PluginLoadError(f"plugin {status.name!r} ({status.dist} {status.version}) failed: {status.error}") from exc
        warnings.warn(
            f"plugin {status.name!r} ({where}) failed to {what} and is skipped: {status.error}. "
            "Run `artifex plugins` for details.",
            PluginLoadWarning,
            stacklevel=2,
        )

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
        owners = {a.name: f"plugin {n!r}" for n, calls in self._calls.items() for c, added in calls if c is cli for a in added}
        taken = {n: owners.get(n, "built-in") for n in _cli_names(cli)}

        def undo() -> None:
            for w, items in before.items():
                getattr(cli, f"registered_{w}")[:] = items
            self._roll_back(status.name)

        try:
            self._only(plugin, "artifex_register_commands")(cli=cli)
        except Exception as exc:
            undo()
            self._fail(status, exc, "add its commands")
            return
        added: list[_Added] = []
        clashes: list[str] = []
        for w, old in before.items():
            items = getattr(cli, f"registered_{w}")
            new = [i for i in items if not any(i is o for o in old)]
            items[:] = old  # the plugin may add, never remove or reorder, earlier commands
            for info in new:
                names = _command_names(w, info)
                clash = [f"command {n!r} is taken by {taken[n]}" for n in names if n in taken]
                if clash:
                    clashes.extend(clash)
                    continue
                items.append(info)
                taken.update(dict.fromkeys(names, f"plugin {status.name!r}"))
                added.extend(_Added(cli, w, info, n) for n in names)
        if clashes and _strict():
            undo()
            self._fail(status, ValueError("; ".join(clashes)), "add its commands")
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
        for _, added in self._calls.pop(name, []):
            for item in added:
                _remove(item)
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
            self._pm = self._new_manager()
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
            pm = self._pm = snapshot.manager
            saved = dict(snapshot.plugins)
            for name, plugin in pm.list_name_plugin():
                if name in saved and saved[name] is plugin:
                    continue
                if plugin is None:
                    pm.unblock(name)
                else:
                    pm.unregister(name=name)
            current = dict(pm.list_name_plugin())
            for name, plugin in saved.items():
                if name in current:
                    continue
                if plugin is None:
                    pm.set_blocked(name)
                else:
                    pm.register(plugin, name=name)
            now = {id(a.info): a for calls in self._calls.values() for _, added in calls for a in added}
            then = {id(a.info): a for _, calls in snapshot.calls for _, added in calls for a in added}
            for key in now.keys() - then.keys():
                _remove(now[key])
            for key in then.keys() - now.keys():
                _put_back(then[key])
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
