"""The declared hooks: pluggy validates every plugin against them, so mistakes are reported, not ignored."""

from __future__ import annotations

import pytest

import artifex_core
from artifex_core import _hookspecs as hookspecs
from artifex_core import PluginHost, PluginLoadWarning
from artifex_core import Registries


def _host() -> PluginHost:
    return PluginHost(Registries(), entry_points=list)


def test_two_hooks_are_declared_with_their_arguments() -> None:
    hooks = _host().plugin_manager.hook
    assert hooks.artifex_register.spec.argnames == ("registry",)
    assert hooks.artifex_register_commands.spec.argnames == ("cli",)
    assert artifex_core.hookimpl is hookspecs.hookimpl and hookspecs.hookimpl.project_name == "artifex"


class _Misspelled:
    @artifex_core.hookimpl
    def artifex_regster(self, registry):  # typo in the hook name
        registry.losses.register("never", abs)


class _WrongArgument:
    @artifex_core.hookimpl
    def artifex_register(self, registries):  # the spec's argument is "registry"
        registries.losses.register("never", abs)


class _Unmarked:
    def artifex_register(self, registry):  # no @hookimpl: pluggy would see no hook at all
        registry.losses.register("never", abs)


class _OtherProject:
    @__import__("pluggy").HookimplMarker("not-artifex")
    def artifex_register(self, registry):
        registry.losses.register("never", abs)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (_Misspelled(), "unknown hook 'artifex_regster' in plugin 'p'; did you mean 'artifex_register'?"),
        (_WrongArgument(), "Argument(s) {'registries'} are declared in the hookimpl but can not be found in the hookspec"),
        (_Unmarked(), "plugin 'p' implements no hook: mark one of artifex_register, artifex_register_commands"),
        (_OtherProject(), "plugin 'p' implements no hook"),
    ],
)
def test_invalid_plugin_is_rejected_reported_and_rolled_back(plugin: object, message: str) -> None:
    local = _host()
    with pytest.warns(PluginLoadWarning, match="plugin 'p' .* failed to load"):
        status = local.register(plugin, name="p")
    assert status.status == "failed" and status.error.startswith("PluginValidationError: ")
    assert message in status.error and "\n" not in status.error
    assert "never" not in local.registries.losses and status.registered == []
    assert local.plugin_manager.get_plugin("p") is None  # not left half-registered in pluggy


def test_invalid_plugin_raises_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_STRICT_PLUGINS", "1")
    with pytest.raises(artifex_core.PluginLoadError, match="unknown hook 'artifex_regster'"):
        _host().register(_Misspelled(), name="p")


def test_optional_unknown_hook_is_allowed() -> None:
    class Optional:
        @artifex_core.hookimpl(optionalhook=True)
        def artifex_future_hook(self, registry):  # pragma: no cover - never called
            pass

        @artifex_core.hookimpl
        def artifex_register(self, registry):
            registry.losses.register("kept", abs)

    local = _host()
    assert local.register(Optional(), name="p").registered == ["losses:kept"]
