"""The pluggy side of the plugin host: its ``PluginManager``, checking one plugin's hooks, calling them.

:func:`new_manager` declares the hooks of :mod:`artifex_core._hookspecs`; :func:`validate_plugin` rejects a
plugin that implements no hook or an unknown (misspelled) one, :func:`only` calls one plugin's
implementation of a hook and nobody else's, and :func:`restore_plugins` puts a manager's registrations (and
blocked names) back as a snapshot recorded them.

Example:
    >>> import artifex_core
    >>> class Zero:
    ...     @artifex_core.hookimpl
    ...     def artifex_register(self, registry):
    ...         registry.losses.register("zero", "operator:not_")
    >>> pm, zero = new_manager(), Zero()
    >>> _ = pm.register(zero, name="zero")
    >>> validate_plugin(pm, zero, "zero")  # a known hook: no error
    >>> only(pm, zero, "artifex_register").name
    'artifex_register'
"""

from __future__ import annotations

import difflib

import pluggy

from artifex_core import _hookspecs as hookspecs
from artifex_core._hookspecs import PROJECT

__all__ = ["new_manager", "only", "restore_plugins", "validate_plugin"]


def new_manager() -> pluggy.PluginManager:
    """A ``pluggy.PluginManager("artifex")`` that knows the hooks of :mod:`artifex_core._hookspecs`."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def validate_plugin(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """pluggy verified the arguments of known hooks on ``register``; reject unknown hooks (pluggy's
    ``check_pending``, for this plugin only) and a plugin that implements no hook at all.

    Raises:
        pluggy.PluginValidationError: Naming the plugin and, for an unknown hook, the closest known one.
    """
    known = sorted(n for n, c in vars(pm.hook).items() if not n.startswith("_") and c.has_spec())
    callers = pm.get_hookcallers(plugin) or []
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


def only(pm: pluggy.PluginManager, plugin: object, hook: str) -> pluggy.HookCaller:
    """A caller of ``hook`` that runs ``plugin``'s implementation only."""
    others = [p for _, p in pm.list_name_plugin() if p is not None and p is not plugin]
    return pm.subset_hook_caller(hook, remove_plugins=others)


def restore_plugins(pm: pluggy.PluginManager, saved: dict[str, object | None]) -> None:
    """Make ``pm`` hold the registrations ``saved`` lists (name -> plugin; None: a blocked name).

    Plugins registered since are unregistered, names blocked since unblocked, and the ones removed since
    registered (or blocked) again.
    """
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
