"""Registry behaviour: lazy targets, aliases, globbing, collisions, close-match errors, loaders, snapshots."""

from __future__ import annotations

import sys

import pytest

from artifex_core import _registry as registry_module
from artifex_core import (
    AmbiguousNameError,
    PluginInfo,
    Registries,
    Registry,
    UnknownNameError,
    registering_as,
    resolve_kind,
)


def test_register_object_and_decorator() -> None:
    reg = Registry("loss")
    reg.register("one", lambda: 1, summary="returns one")

    @reg.register("two", aliases=("deux",))
    def two() -> int:
        """Returns two."""
        return 2

    assert reg.get("one")() == 1
    assert reg.get("deux") is two
    assert reg.entry("two").summary == "Returns two."
    assert "deux" in reg and "three" not in reg
    assert reg.names() == ["one", "two"]  # aliases are not listed as names


def test_lazy_target_is_imported_on_first_get_only() -> None:
    reg = Registry("thing")
    reg.register("dec", "decimal:Decimal")
    sys.modules.pop("fractions", None)
    reg.register("frac", "fractions:Fraction")
    assert "fractions" not in sys.modules  # registering does not import
    assert reg.names() == ["dec", "frac"] and "fractions" not in sys.modules  # nor does listing
    from fractions import Fraction

    assert reg.get("frac") is Fraction


def test_bad_lazy_target_message() -> None:
    reg = Registry("thing")
    reg.register("bad", "no_colon_here")
    with pytest.raises(ValueError, match="module:attribute"):
        reg.get("bad")


def test_glob_patterns() -> None:
    reg = Registry("model")
    for name in ("beta_vae", "beta_vae_capacity", "vae", "vqvae"):
        reg.register(name, object())
    assert reg.names("beta*") == ["beta_vae", "beta_vae_capacity"]
    assert reg.names("v*") == ["vae", "vqvae"]
    assert reg.names("nothing*") == []


def test_unknown_name_lists_close_matches() -> None:
    reg = Registry("encoder")
    reg.register("resnet", object())
    reg.register("mlp", object())
    with pytest.raises(UnknownNameError) as info:
        reg.get("resnt")
    assert isinstance(info.value, LookupError)
    assert "unknown encoder 'resnt'; did you mean 'resnet'?" in str(info.value)
    assert "available: mlp, resnet" in str(info.value)


def test_same_plugin_cannot_register_twice() -> None:
    reg = Registry("encoder")
    reg.register("mlp", object())
    with pytest.raises(ValueError, match="already registered by plugin 'local'"):
        reg.register("mlp", object())
    with pytest.raises(ValueError, match="already registered"):
        reg.register("other", object(), aliases=("mlp",))


def test_two_plugins_same_name_reported_with_qualified_ids() -> None:
    reg = Registry("encoder")
    a, b = object(), object()
    with registering_as(PluginInfo("alpha", "alpha-dist", "1.0")):
        reg.register("mlp", a)
    with registering_as(PluginInfo("beta", "beta-dist", "2.0")):
        reg.register("mlp", b)  # no crash at registration
    with pytest.raises(AmbiguousNameError) as info:
        reg.get("mlp")
    assert "alpha:mlp" in str(info.value) and "beta:mlp" in str(info.value)
    assert reg.get("alpha:mlp") is a
    assert reg.get("beta:mlp") is b
    assert "mlp" in reg
    assert [e.qualified_id for e in reg.entries("mlp")] == ["alpha:mlp", "beta:mlp"]
    with pytest.raises(UnknownNameError):
        reg.get("gamma:mlp")


def test_entries_describe_plugin_without_import() -> None:
    reg = Registry("model")
    with registering_as(PluginInfo("p", "p-dist", "0.1")):
        reg.register("m", "some_module_that_does_not_exist:M", summary="s", aliases=("mm",))
    (entry,) = reg.entries()
    assert entry.as_dict() == {
        "name": "m",
        "qualified_id": "p:m",
        "aliases": ["mm"],
        "summary": "s",
        "plugin": "p",
        "dist": "p-dist",
        "version": "0.1",
        "target": "some_module_that_does_not_exist:M",
    }


def test_unregister_plugin_removes_its_entries_only() -> None:
    reg = Registry("loss")
    with registering_as(PluginInfo("x")):
        reg.register("a", 1)
    reg.register("b", 2)
    reg.unregister_plugin("x")
    assert reg.names() == ["b"]


def test_resolve_kind_singular_plural_and_typo() -> None:
    assert resolve_kind("models") is resolve_kind("model")
    with pytest.raises(UnknownNameError, match="did you mean 'models'"):
        resolve_kind("modles")


def test_resolve_kind_knows_the_new_kinds() -> None:
    for plural in ("recipes", "metrics", "loggers", "samplers"):
        assert resolve_kind(plural) is resolve_kind(plural[:-1]) is getattr(registry_module, plural)
    regs = Registries()
    assert resolve_kind("metric", regs) is regs.metrics


def test_registries_hold_nine_kinds() -> None:
    regs = Registries()
    assert list(regs.by_kind()) == [
        "encoders", "decoders", "losses", "models", "datasets", "recipes", "metrics", "loggers", "samplers"
    ]
    assert [r.kind for r in regs.by_kind().values()] == [
        "encoder", "decoder", "loss", "model", "dataset", "recipe", "metric", "logger", "sampler"
    ]
    assert list(registry_module.registries.by_kind()) == list(regs.by_kind())


def test_loader_runs_before_lookups_and_listings_only() -> None:
    calls: list[str] = []
    reg = Registry("thing", loader=lambda: calls.append("load"))
    reg.register("a", 1)
    assert calls == []  # registering does not load
    reg.get("a"), reg.names(), "a" in reg, len(reg)
    assert len(calls) == 4
    reg.set_loader(None)
    reg.get("a")
    assert len(calls) == 4


def test_owned_by_lists_a_plugins_entries() -> None:
    regs = Registries()
    with registering_as(PluginInfo("p")):
        regs.losses.register("a", 1, aliases=("aa",))
        regs.recipes.register("r", 2)
    regs.losses.register("b", 3)
    assert regs.owned_by("p") == ["losses:a", "recipes:r"] and regs.losses.owned_by("local") == ["b"]


def test_snapshot_restore_round_trip() -> None:
    regs = Registries()
    regs.losses.register("kept", 1, aliases=("k",))
    saved = regs.snapshot()
    regs.losses.register("scratch", 2)
    regs.losses.unregister_plugin("local")
    regs.metrics.register("m", 3)
    regs.restore(saved)
    assert regs.losses.names() == ["kept"] and regs.losses.get("k") == 1 and regs.metrics.names() == []
    regs.losses.register("again", 4)  # the restored table is a copy: the snapshot stays as taken
    regs.restore(saved)
    assert regs.losses.names() == ["kept"]
    with pytest.raises(TypeError):
        saved["losses"].table["new"] = ()  # read-only
    with pytest.raises(ValueError, match="a loss snapshot cannot restore the metric registry"):
        regs.metrics.restore(saved["losses"])
