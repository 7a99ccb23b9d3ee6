"""PluginHost: one object owning registries, plugin manager and statuses; entry points, commands, snapshots."""

from __future__ import annotations

import ast
import sys
import types
import warnings
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import artifex_core
from artifex_core import ENTRY_POINT_GROUP, PluginHost, PluginLoadError, PluginLoadWarning, host
from artifex_core import Registries

runner = CliRunner()
CORE = Path(artifex_core.__file__).parent


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def _host(*eps: EntryPoint) -> PluginHost:
    return PluginHost(Registries(), entry_points=lambda: list(eps))


def _cli() -> typer.Typer:
    cli = typer.Typer(add_completion=False)

    @cli.command("list")
    def list_() -> None:
        print("built-in list")

    @cli.command("info")
    def info() -> None:
        print("built-in info")

    return cli


class _Hello:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.metrics.register("hello_metric", "operator:not_", summary="a metric")

    @artifex_core.hookimpl
    def artifex_register_commands(self, cli):
        @cli.command("hello")
        def hello(name: str = "world") -> None:
            """Say hello."""
            print(f"hello {name}")


class _RaisesInCommands:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.recipes.register("doomed_recipe", "operator:not_")

    @artifex_core.hookimpl
    def artifex_register_commands(self, cli):
        cli.command("doomed")(lambda: None)
        raise RuntimeError("no commands today")


class _Shadows:
    @artifex_core.hookimpl
    def artifex_register_commands(self, cli):
        @cli.command("list")
        def my_list() -> None:
            print("plugin list")

        @cli.command("extra")
        def extra() -> None:
            print("plugin extra")


# -- one object, no cycle ------------------------------------------------------------------------------------


def _imported(nodes: list[ast.stmt]) -> set[str]:
    found = {n.module for tree in nodes for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return found | {a.name for tree in nodes for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def _is_type_only(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"


REGISTRY_MODULES = ("_registry", "_name_registry", "_entry", "_lookup_errors")
"""The registries, one registry, what it holds and its lookup errors."""


@pytest.mark.parametrize("module", REGISTRY_MODULES)
def test_registry_modules_know_nothing_about_plugins(module: str) -> None:
    tree = ast.parse((CORE / f"{module}.py").read_text())
    type_only = [n for n in tree.body if _is_type_only(n)]
    runtime = [n for n in tree.body if not _is_type_only(n)]
    # At run time they import one another only.
    family = {f"artifex_core.{m}" for m in REGISTRY_MODULES}
    assert not {m for m in _imported(runtime) if m.startswith("artifex")} - family, _imported(runtime)
    # The registries' target types (Dataset, Metric, Logger, RecipeTarget) are imported for the type checker
    # only, and never the plugin machinery.
    typed = {m for m in _imported(type_only) if m.startswith("artifex")}
    machinery = {f"artifex_core.{m}" for m in ("_host", "_host_commands", "_host_pluggy", "_hookspecs", "_plugin_status", "_plugins")}
    assert not typed & machinery, typed
    if module == "_registry":
        assert typed


def test_hosts_are_isolated_from_each_other_and_from_the_default() -> None:
    a, b = _host(), _host()
    a.register(_Hello(), name="hello")
    assert "hello_metric" in a.registries.metrics
    assert "hello_metric" not in b.registries.metrics and "hello_metric" not in host().registries.metrics
    assert a.plugin_manager is not b.plugin_manager and b.plugin_manager.get_plugin("hello") is None


def test_first_lookup_loads_the_entry_points_once() -> None:
    local = _host(_ep("mine", "artifex_plugins.plugin"))
    assert not local.loaded
    assert local.registries.models.entry("vae").qualified_id == "mine:vae"  # the lookup loaded it
    assert local.loaded and [s.name for s in local.load()] == ["mine"] and len(local.registries.models.entries("vae")) == 1
    (status,) = local.statuses()
    assert status.status == "ok" and status.dist is None and "models:vae" in status.registered


def test_builtin_entry_point_loads_first() -> None:
    local = _host(_ep("aaa", "artifex_plugins.plugin"), _ep("builtin", "artifex_plugins.plugin"))
    with pytest.warns(PluginLoadWarning, match="'aaa'.*already registered"):
        statuses = local.load()
    assert [(s.name, s.status) for s in statuses] == [("builtin", "ok"), ("aaa", "failed")]


def test_failing_entry_point_is_recorded_and_the_rest_loads() -> None:
    local = _host(_ep("builtin", "artifex_plugins.plugin"), _ep("missing", "artifex_no_such_module"))
    with pytest.warns(PluginLoadWarning, match="plugin 'missing' .* failed to load"):
        statuses = {s.name: s for s in local.load()}
    assert statuses["missing"].status == "failed" and "ModuleNotFoundError" in statuses["missing"].error
    assert "Traceback" in statuses["missing"].traceback and "traceback" not in statuses["missing"].as_dict()
    assert statuses["builtin"].status == "ok" and "vae" in local.registries.models


def test_strict_mode_reraises_entry_point_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_STRICT_PLUGINS", "1")
    local = _host(_ep("missing", "artifex_no_such_module"))
    with pytest.raises(PluginLoadError, match="plugin 'missing'.*ModuleNotFoundError"):
        local.load()
    assert not local.loaded


def test_disabled_entry_point_is_blocked_in_pluggy_before_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_DISABLE_PLUGINS", " missing , other")
    local = _host(_ep("missing", "artifex_no_such_module"))  # importing it would fail
    (status,) = local.load()
    assert status.status == "disabled" and status.error is None
    assert local.plugin_manager.is_blocked("missing")
    local.plugin_manager.set_blocked("blocked")
    assert local.register(_Hello(), name="blocked").status == "disabled"  # a blocked name registers nothing
    assert "hello_metric" not in local.registries.metrics


def test_reentrant_lookup_from_a_hook_does_not_recurse(monkeypatch: pytest.MonkeyPatch) -> None:
    class Looks:
        @artifex_core.hookimpl
        def artifex_register(self, registry):
            registry.losses.register("mine", abs)
            assert "mine" in registry.losses  # a lookup while loading: no recursion, no deadlock

    module = types.ModuleType("artifex_test_looks")
    module.plugin = Looks()
    monkeypatch.setitem(sys.modules, module.__name__, module)
    local = _host(_ep("looks", "artifex_test_looks:plugin"))
    assert [s.status for s in local.load()] == ["ok"] and "mine" in local.registries.losses


def test_failing_register_hook_is_rolled_back() -> None:
    class Half:
        @artifex_core.hookimpl
        def artifex_register(self, registry):
            registry.losses.register("half", abs)
            raise RuntimeError("half-way")

    local = _host()
    with pytest.warns(PluginLoadWarning, match="half-way"):
        status = local.register(Half(), name="half")
    assert status.status == "failed" and status.error == "RuntimeError: half-way"
    assert "half" not in local.registries.losses and local.plugin_manager.get_plugin("half") is None


def test_reset_forgets_everything() -> None:
    local = _host(_ep("builtin", "artifex_plugins.plugin"))
    local.register(_Hello(), name="hello")
    old = local.plugin_manager
    local.reset()
    assert not local.loaded and local.plugin_manager is not old and "hello_metric" not in local.registries.metrics
    assert [s.name for s in local.load()] == ["builtin"]


# -- commands --------------------------------------------------------------------------------------------------


def test_plugin_command_is_in_help_and_runs() -> None:
    local, cli = _host(), _cli()
    local.register(_Hello(), name="hello")
    statuses = local.register_commands(cli)
    assert [s.commands for s in statuses] == [["hello"]]
    assert "hello" in runner.invoke(cli, ["--help"]).stdout
    result = runner.invoke(cli, ["hello", "--name", "you"])
    assert result.exit_code == 0 and result.stdout == "hello you\n"
    local.register_commands(cli)  # once per CLI: nothing added twice
    assert [c.name for c in cli.registered_commands] == ["list", "info", "hello"]


def test_commands_hook_failure_is_recorded_rolled_back_and_the_cli_works() -> None:
    local, cli = _host(), _cli()
    local.register(_Hello(), name="hello")
    local.register(_RaisesInCommands(), name="doomed")
    assert "doomed_recipe" in local.registries.recipes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        statuses = {s.name: s for s in local.register_commands(cli)}
    assert [str(w.message) for w in caught if "doomed" in str(w.message)] == [
        "plugin 'doomed' (? ?) failed to add its commands and is skipped: RuntimeError: no commands today. "
        "Run `artifex plugins` for details."
    ]
    doomed = statuses["doomed"]
    assert doomed.status == "failed" and doomed.error == "RuntimeError: no commands today" and doomed.registered == []
    assert "doomed_recipe" not in local.registries.recipes and local.plugin_manager.get_plugin("doomed") is None
    assert [c.name for c in cli.registered_commands] == ["list", "info", "hello"]  # its command is gone
    assert runner.invoke(cli, ["list"]).stdout == "built-in list\n" and runner.invoke(cli, ["hello"]).exit_code == 0


def test_commands_hook_failure_raises_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_STRICT_PLUGINS", "1")
    local, cli = _host(), _cli()
    local.register(_RaisesInCommands(), name="doomed")
    with pytest.raises(PluginLoadError, match="plugin 'doomed'.*no commands today"):
        local.register_commands(cli)
    assert [c.name for c in cli.registered_commands] == ["list", "info"]


def test_command_shadowing_a_builtin_is_dropped_and_reported() -> None:
    local, cli = _host(), _cli()
    local.register(_Shadows(), name="shadow")
    with pytest.warns(PluginLoadWarning, match="plugin 'shadow'.*command 'list' is taken by built-in"):
        (status,) = local.register_commands(cli)
    assert status.status == "ok" and status.commands == ["extra"]
    assert status.notes == ["command 'list' is taken by built-in: kept the existing one"]
    assert runner.invoke(cli, ["list"]).stdout == "built-in list\n"
    assert runner.invoke(cli, ["extra"]).stdout == "plugin extra\n"


def test_command_taken_by_an_earlier_plugin_keeps_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    local, cli = _host(), _cli()
    local.register(_Hello(), name="first")
    local.register(_Hello(), name="second")
    with pytest.warns(PluginLoadWarning, match="command 'hello' is taken by plugin 'first'"):
        statuses = {s.name: s for s in local.register_commands(cli)}
    assert statuses["first"].commands == ["hello"] and statuses["second"].commands == []
    monkeypatch.setenv("ARTIFEX_STRICT_PLUGINS", "1")
    strict, strict_cli = _host(), _cli()
    strict.register(_Shadows(), name="shadow")
    with pytest.raises(PluginLoadError, match="plugin 'shadow'.*command 'list' is taken by built-in"):
        strict.register_commands(strict_cli)
    assert strict.statuses()[0].status == "failed" and [c.name for c in strict_cli.registered_commands] == ["list", "info"]


def test_unregister_removes_the_plugins_commands() -> None:
    local, cli = _host(), _cli()
    local.register(_Hello(), name="hello")
    local.register_commands(cli)
    local.unregister("hello")
    assert [c.name for c in cli.registered_commands] == ["list", "info"] and local.statuses() == []


def test_register_commands_is_cheap_for_the_default_cli() -> None:
    """The real app gets the installed plugins' commands without importing JAX (checked in a subprocess)."""
    import subprocess
    import sys

    code = (
        "import sys; from artifex_core.cli._app import add_plugin_commands, app; add_plugin_commands(app);"
        "print('JAX' if 'jax' in sys.modules or 'flax' in sys.modules else 'NOJAX')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "NOJAX", result.stderr


# -- snapshots -------------------------------------------------------------------------------------------------


def test_snapshot_restore_round_trip() -> None:
    local, cli = _host(_ep("builtin", "artifex_plugins.plugin")), _cli()
    local.register(_Hello(), name="hello")
    local.register_commands(cli)
    before = (
        {k: r.names() for k, r in local.registries.by_kind().items()},
        [s.as_dict() for s in local.statuses()],
        sorted(n for n, _ in local.plugin_manager.list_name_plugin()),
        [c.name for c in cli.registered_commands],
    )
    saved = local.snapshot()

    local.registries.losses.register("scratch", abs)
    local.register(_Shadows(), name="later")
    with pytest.warns(PluginLoadWarning):
        local.register_commands(cli)
    local.unregister("hello")
    local.plugin_manager.set_blocked("blocked-later")
    local.statuses()[0].registered.append("tampered")
    assert "hello" not in [c.name for c in cli.registered_commands] and "extra" in [c.name for c in cli.registered_commands]

    for _ in range(2):  # a snapshot can be restored more than once
        local.restore(saved)
        after = (
            {k: r.names() for k, r in local.registries.by_kind().items()},
            [s.as_dict() for s in local.statuses()],
            sorted(n for n, _ in local.plugin_manager.list_name_plugin()),
            sorted(c.name for c in cli.registered_commands),
        )
        assert after[:3] == before[:3] and after[3] == sorted(before[3])
        assert not local.plugin_manager.is_blocked("blocked-later")
        assert runner.invoke(cli, ["hello"]).stdout == "hello world\n"
        local.register(_Shadows(), name="later")  # the name is free again
        local.unregister("later")


def test_restore_after_reset_brings_the_plugins_back() -> None:
    local = _host(_ep("builtin", "artifex_plugins.plugin"))
    local.load()
    saved = local.snapshot()
    local.reset()
    local.restore(saved)
    assert local.loaded and local.plugin_manager.get_plugin("builtin") is not None and "vae" in local.registries.models
