"""Plugin loading: lazy, once, isolated failures, strict and disable switches, rollback."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import artifex_core
from artifex_core import _plugins as plugins
from artifex_core import encoders, losses, models

PY = sys.executable


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFEX_")}
    full_env.update(env)
    return subprocess.run([PY, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


def test_import_loads_no_plugin_and_no_jax() -> None:
    result = _run(
        "import sys, artifex_core; from artifex_core import host;"
        "print(host().loaded, 'jax' in sys.modules, 'flax' in sys.modules)"
    )
    assert result.stdout.split() == ["False", "False", "False"], result.stderr


def test_first_registry_use_loads_plugins_without_jax() -> None:
    result = _run(
        "import sys, artifex_core;"
        "print(artifex_core.list_models());"
        "print('jax' in sys.modules)"
    )
    assert "'vae'" in result.stdout and result.stdout.strip().endswith("False"), result.stderr


def test_builtin_plugin_is_ok_and_registers_everything() -> None:
    status = {s.name: s for s in artifex_core.plugin_statuses()}["builtin"]
    assert status.status == "ok" and status.dist == "artifex-vae"
    for name in ("encoders:mlp", "encoders:cnn", "encoders:resnet", "decoders:mlp", "losses:bce", "models:vqvae"):
        assert name in status.registered
    assert models.entry("vae").qualified_id == "builtin:vae"
    assert encoders.entry("dense") is encoders.entry("mlp")


def test_load_plugins_is_idempotent() -> None:
    first = plugins.load_plugins()
    second = plugins.load_plugins()
    assert [s.name for s in first] == [s.name for s in second]
    assert len(models.entries("vae")) == 1


class _Good:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.losses.register("zero_loss", lambda pred, x: 0.0, summary="zero")


class _Half:
    """Registers one name, then fails: the registration must be rolled back."""

    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.losses.register("half_loss", lambda pred, x: 0.0)
        raise RuntimeError("half-way failure")


class _Clash:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.losses.register("mse", lambda pred, x: 0.0, summary="another mse")


def test_register_plugin_object_and_unregister() -> None:
    status = plugins.register_plugin(_Good(), name="test-good")
    try:
        assert status.status == "ok" and status.registered == ["losses:zero_loss"]
        assert losses.get("zero_loss")(1, 2) == 0.0
        assert losses.entry("test-good:zero_loss").plugin.name == "test-good"
        with pytest.raises(ValueError, match="already registered"):
            plugins.register_plugin(_Good(), name="test-good")
    finally:
        plugins.unregister_plugin("test-good")
    assert "zero_loss" not in losses


def test_failing_plugin_is_recorded_warned_and_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARTIFEX_STRICT_PLUGINS", raising=False)
    with pytest.warns(artifex_core.PluginLoadWarning, match="half-way failure"):
        status = plugins.register_plugin(_Half(), name="test-half", dist="half-dist", version="9")
    try:
        assert status.status == "failed" and "RuntimeError: half-way failure" in status.error
        assert "half_loss" not in losses  # rolled back
        assert "mse" in losses  # the rest keeps working
    finally:
        plugins.unregister_plugin("test-half")


def test_strict_mode_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_STRICT_PLUGINS", "1")
    with pytest.raises(artifex_core.PluginLoadError, match="test-strict.*half-way failure"):
        plugins.register_plugin(_Half(), name="test-strict")
    plugins.unregister_plugin("test-strict")


def test_clash_between_plugins_is_reported_on_lookup() -> None:
    plugins.register_plugin(_Clash(), name="test-clash")
    try:
        with pytest.raises(artifex_core.AmbiguousNameError, match="builtin:mse.*test-clash:mse"):
            losses.get("mse")
        assert losses.entry("test-clash:mse").summary == "another mse"
        assert losses.entry("builtin:mse").plugin.name == "builtin"
    finally:
        plugins.unregister_plugin("test-clash")
    assert losses.entry("mse").plugin.name == "builtin"


def test_disable_switch_skips_before_import() -> None:
    code = (
        "import sys, artifex_core;"
        "print({s.name: s.status for s in artifex_core.plugin_statuses()});"
        "print('blocked', artifex_core._plugins.plugin_manager().is_blocked('builtin'));"
        "print('artifex_plugins.plugin' in sys.modules)"
    )
    result = _run(code, ARTIFEX_DISABLE_PLUGINS="builtin")
    assert "'builtin': 'disabled'" in result.stdout
    assert "blocked True" in result.stdout  # through pluggy's set_blocked
    assert result.stdout.strip().endswith("False")  # never imported
    result = _run(code, ARTIFEX_DISABLE_PLUGINS="artifex-vae")  # by distribution name too
    assert "'builtin': 'disabled'" in result.stdout and "blocked True" in result.stdout


def test_hooks_are_called_through_pluggy() -> None:
    calls: list[tuple[str, list[str]]] = []
    pm = plugins.plugin_manager()
    undo = pm.add_hookcall_monitoring(lambda name, impls, kwargs: calls.append((name, [i.plugin_name for i in impls])), lambda *a: None)
    try:
        plugins.register_plugin(_Good(), name="test-pluggy")
    finally:
        undo()
        plugins.unregister_plugin("test-pluggy")
    assert calls == [("artifex_register", ["test-pluggy"])]  # that plugin's implementation only


def test_facade_names_are_the_hosts() -> None:
    from artifex_core import _hookspecs as hookspecs, _host as host, _registry as registry

    assert artifex_core.hookimpl is plugins.hookimpl is hookspecs.hookimpl
    assert plugins.plugin_manager() is host.host().plugin_manager
    assert registry.registries is host.host().registries and registry.models is host.host().registries.models
    assert plugins.PluginStatus is host.PluginStatus and plugins.PluginLoadError is host.PluginLoadError


def test_warnings_do_not_break_other_plugins() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "vae" in artifex_core.list_models()
