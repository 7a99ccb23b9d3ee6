"""The CLI side of plugins: which commands and groups a plugin put on a Typer app, taking them off and back.

:meth:`PluginHost.register_commands <artifex_core.PluginHost.register_commands>` lets a plugin's
``artifex_register_commands(cli)`` add to ``cli.registered_commands`` / ``cli.registered_groups``, then keeps
what it added with :func:`keep_new_commands` (a name already taken stays with its owner) and records each as
an :class:`Added`, so that rolling the plugin back or restoring a snapshot takes exactly those off again.

Example:
    >>> import typer
    >>> cli = typer.Typer()
    >>> _ = cli.command("train")(lambda: None)
    >>> before = {"commands": list(cli.registered_commands), "groups": []}
    >>> _ = cli.command("train")(lambda: None), cli.command("hello")(lambda: None)
    >>> added, clashes = keep_new_commands(cli, before, {"train": "built-in"}, "demo")
    >>> [a.name for a in added], clashes, cli_names(cli)
    (['hello'], ["command 'train' is taken by built-in"], ['train', 'hello'])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover - typer is imported by the CLI only
    import typer

__all__ = [
    "Added",
    "CliCall",
    "CliCalls",
    "cli_names",
    "command_names",
    "keep_new_commands",
    "owners",
    "remove_all",
    "restore_commands",
]


class Added(NamedTuple):
    """One command (``registered_commands``) or group (``registered_groups``) a plugin put on a CLI."""

    cli: typer.Typer
    where: str
    info: Any
    name: str


CliCall = tuple["typer.Typer", tuple[Added, ...]]
"""One call of a plugin's ``artifex_register_commands``: the CLI it was given and what it put there."""
CliCalls = list[CliCall]
"""Every call of one plugin's ``artifex_register_commands``, one per CLI."""


def command_names(where: str, info: Any) -> list[str]:
    """The names Typer will give a registered command or group (an unnamed group lends its commands)."""
    if where == "commands":
        return [info.name or info.callback.__name__.lower().replace("_", "-")]
    from typer.main import solve_typer_info_defaults

    name = solve_typer_info_defaults(info).name
    if name:
        return [name]
    return cli_names(info.typer_instance)


def cli_names(cli: typer.Typer) -> list[str]:
    """Every command name ``cli`` has, its groups' included, in registration order."""
    return [n for w in ("commands", "groups") for i in getattr(cli, f"registered_{w}") for n in command_names(w, i)]


def _remove(added: Added) -> None:
    """Take one added command or group off its CLI."""
    items = getattr(added.cli, f"registered_{added.where}")
    items[:] = [i for i in items if i is not added.info]


def _put_back(added: Added) -> None:
    """Put one added command or group back on its CLI (once)."""
    items = getattr(added.cli, f"registered_{added.where}")
    if not any(i is added.info for i in items):
        items.append(added.info)


def owners(calls: dict[str, CliCalls], cli: typer.Typer) -> dict[str, str]:
    """Command name -> ``"plugin 'NAME'"`` for every command a plugin added to ``cli``."""
    return {a.name: f"plugin {n!r}" for n, plugin_calls in calls.items() for c, added in plugin_calls if c is cli for a in added}


def keep_new_commands(
    cli: typer.Typer, before: dict[str, list[Any]], taken: dict[str, str], plugin: str
) -> tuple[list[Added], list[str]]:
    """Keep what plugin ``plugin`` added to ``cli`` since ``before``, except commands whose name is taken.

    The plugin may add, never remove or reorder, earlier commands: ``cli``'s lists become ``before`` plus
    the new items that clash with no name in ``taken`` (which gains the kept names).

    Args:
        cli: The Typer app the plugin was given.
        before: ``"commands"`` / ``"groups"`` -> the registered items before the plugin's hook ran.
        taken: Command name -> who owns it (``"built-in"``, ``"plugin 'x'"``); updated in place.
        plugin: The plugin's name, the owner of what is kept.

    Returns:
        ``(added, clashes)``: what was kept, and one message per command dropped because its name was taken.
    """
    added: list[Added] = []
    clashes: list[str] = []
    for w, old in before.items():
        items = getattr(cli, f"registered_{w}")
        new = [i for i in items if not any(i is o for o in old)]
        items[:] = old  # the plugin may add, never remove or reorder, earlier commands
        for info in new:
            names = command_names(w, info)
            clash = [f"command {n!r} is taken by {taken[n]}" for n in names if n in taken]
            if clash:
                clashes.extend(clash)
                continue
            items.append(info)
            taken.update(dict.fromkeys(names, f"plugin {plugin!r}"))
            added.extend(Added(cli, w, info, n) for n in names)
    return added, clashes


def remove_all(calls: Iterable[CliCall]) -> None:
    """Take every command and group in ``calls`` off its CLI."""
    for _, added in calls:
        for item in added:
            _remove(item)


def restore_commands(now: Iterable[Iterable[CliCall]], then: Iterable[Iterable[CliCall]]) -> None:
    """Make the CLIs hold what ``then`` recorded, not ``now``: commands added since are taken off, ones taken
    off since are put back (each argument: per plugin, its calls)."""
    current = {id(a.info): a for calls in now for _, added in calls for a in added}
    saved = {id(a.info): a for calls in then for _, added in calls for a in added}
    for key in current.keys() - saved.keys():
        _remove(current[key])
    for key in saved.keys() - current.keys():
        _put_back(saved[key])
