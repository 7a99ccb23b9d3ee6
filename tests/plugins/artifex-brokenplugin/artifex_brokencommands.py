"""A plugin that registers fine but raises in its commands hook (after adding a command): the CLI must
report it, roll it back (its command and its loss) and keep working."""

from __future__ import annotations

from artifex_core import hookimpl


@hookimpl
def artifex_register(registry):
    registry.losses.register("broken_commands_loss", "operator:not_", summary="Rolled back with its plugin")


@hookimpl
def artifex_register_commands(cli):
    @cli.command("broken-hello")
    def broken_hello() -> None:
        """Never reachable: removed when the hook raises."""
        print("unreachable")

    raise RuntimeError("artifex_brokencommands fails in its commands hook on purpose")
