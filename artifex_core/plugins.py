"""Plugin loading through pluggy and the ``artifex.plugins`` entry-point group.

A plugin is a module (or object) with a function marked ``@artifex_core.hookimpl`` named
``artifex_register(registry)``; ``registry`` has the attributes ``encoders``, ``decoders``, ``losses``,
``models`` and ``datasets``. Installed plugins are found by entry point and loaded lazily, once, on first
registry use. Each plugin's import and hook call is isolated: a failing plugin is recorded and warned about,
and what it registered is rolled back, while everything else keeps working.

Environment:
    ARTIFEX_DISABLE_PLUGINS: comma-separated entry-point or distribution names to skip before import.
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

import os
import threading
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from artifex_core.registry import PluginInfo, Registries, registering_as, registries

__all__ = [
    "ENTRY_POINT_GROUP",
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

ENTRY_POINT_GROUP = "artifex.plugins"
PROJECT = "artifex"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class _Spec:
    @hookspec
    def artifex_register(self, registry: Registries) -> None:  # pragma: no cover - a spec
        """Register encoders, decoders, losses, models and datasets on ``registry``."""


class PluginLoadError(RuntimeError):
    """A plugin failed to import or register while ``ARTIFEX_STRICT_PLUGINS=1``."""


class PluginLoadWarning(UserWarning):
    """A plugin failed to import or register; the others keep working."""


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
    """

    name: str
    dist: str | None = None
    version: str | None = None
    status: str = "ok"
    error: str | None = None
    registered: list[str] = field(default_factory=list)
    traceback: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the traceback)."""
        data = asdict(self)
        data.pop("traceback")
        return data


_lock = threading.RLock()
_state: dict[str, Any] = {"loaded": False, "loading": False}
_statuses: dict[str, PluginStatus] = {}
_pm: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide ``pluggy.PluginManager("artifex")``."""
    global _pm
    if _pm is None:
        _pm = pluggy.PluginManager(PROJECT)
        _pm.add_hookspecs(_Spec)
    return _pm


def _env_set(var: str) -> set[str]:
    return {s.strip() for s in os.environ.get(var, "").split(",") if s.strip()}


def _strict() -> bool:
    return os.environ.get("ARTIFEX_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _snapshot() -> set[str]:
    return {
        f"{kind}:{e.name}@{id(e)}" for kind, reg in registries.by_kind().items() for e in reg._unique_entries()
    }


def _call_hook(plugin: object, status: PluginStatus) -> None:
    """Register ``plugin`` with pluggy and run its hook, recording what it added."""
    pm = plugin_manager()
    info = PluginInfo(status.name, status.dist, status.version)
    before = _snapshot()
    try:
        pm.register(plugin, name=status.name)
        impls = [i for i in pm.hook.artifex_register.get_hookimpls() if i.plugin is plugin]
        with registering_as(info):
            for impl in impls:
                impl.function(registry=registries)
    except BaseException:
        registries.unregister_plugin(status.name)
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        raise
    added = sorted(_snapshot() - before)
    status.registered = [a.rsplit("@", 1)[0] for a in added]


def _fail(status: PluginStatus, exc: BaseException) -> None:
    status.status = "failed"
    status.error = f"{type(exc).__name__}: {exc}".strip()
    if _strict():
        raise PluginLoadError(f"plugin {status.name!r} ({status.dist} {status.version}) failed: {status.error}") from exc
    warnings.warn(
        f"plugin {status.name!r} ({status.dist or '?'} {status.version or '?'}) failed to load and is skipped: "
        f"{status.error}. Run `artifex plugins` for details.",
        PluginLoadWarning,
        stacklevel=4,
    )


def _load_entry_point(ep: EntryPoint, disabled: set[str]) -> PluginStatus:
    dist = ep.dist.name if ep.dist is not None else None
    version = ep.dist.version if ep.dist is not None else None
    status = PluginStatus(ep.name, dist, version)
    if ep.name in disabled or (dist is not None and dist in disabled):
        status.status = "disabled"
        return status
    try:
        plugin = ep.load()
        _call_hook(plugin, status)
    except Exception as exc:  # isolate every plugin
        status.traceback = traceback.format_exc()
        _fail(status, exc)
    return status


def load_plugins(*, force: bool = False) -> list[PluginStatus]:
    """Load every installed plugin once (idempotent; re-entrant calls from plugins are no-ops).

    Args:
        force: Forget what was loaded and load again (mostly for tests).

    Returns:
        The status of every plugin seen so far.
    """
    with _lock:
        if force:
            reset_plugins()
        if _state["loaded"] or _state["loading"]:
            return list(_statuses.values())
        _state["loading"] = True
        try:
            disabled = _env_set("ARTIFEX_DISABLE_PLUGINS")
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin", e.name)):
                if ep.name in _statuses:
                    continue
                _statuses[ep.name] = _load_entry_point(ep, disabled)
            _state["loaded"] = True
        finally:
            _state["loading"] = False
        return list(_statuses.values())


def plugin_statuses() -> list[PluginStatus]:
    """Load the plugins if needed and return their statuses."""
    return load_plugins()


def register_plugin(plugin: object, *, name: str, dist: str | None = None, version: str | None = None) -> PluginStatus:
    """Register a plugin object directly (no entry point), through the same isolated path.

    Loads the installed plugins first, so this plugin's names sit beside theirs.

    Raises:
        ValueError: If a plugin of that name is already registered.
    """
    load_plugins()
    with _lock:
        if name in _statuses:
            raise ValueError(f"a plugin named {name!r} is already registered")
        status = PluginStatus(name, dist, version)
        try:
            _call_hook(plugin, status)
        except Exception as exc:
            _fail(status, exc)
        _statuses[name] = status
        return status


def unregister_plugin(name: str) -> None:
    """Remove a plugin and everything it registered."""
    with _lock:
        registries.unregister_plugin(name)
        pm = plugin_manager()
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(plugin)
        _statuses.pop(name, None)


def reset_plugins() -> None:
    """Forget all plugins and their registrations (the next registry use loads them again)."""
    global _pm
    with _lock:
        for name in list(_statuses):
            registries.unregister_plugin(name)
        _statuses.clear()
        _pm = None
        _state["loaded"] = False
