"""artifex_core.testing: isolation, the plugin fixture and the conformance checks."""

from __future__ import annotations

import pytest

import artifex_core
from artifex_core import losses, models
from artifex_core.testing import ConformanceError, check_model, isolated_registries

pytest_plugins = ["artifex_core.testing"]


class _Plugin:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.losses.register("only_in_test", lambda pred, x: 0.0)


def test_isolated_registries_restore_state() -> None:
    before = losses.names()
    with isolated_registries():
        losses.register("scratch", lambda pred, x: 0.0)
        assert "scratch" in losses
    assert losses.names() == before


def test_plugin_fixture_registers_for_one_test(artifex_plugin) -> None:
    status = artifex_plugin(_Plugin(), name="fixture-plugin")
    assert status.status == "ok" and "only_in_test" in losses


def test_plugin_fixture_cleaned_up() -> None:
    assert "only_in_test" not in losses
    assert "fixture-plugin" not in {s.name for s in artifex_core.plugin_statuses()}


@pytest.mark.parametrize("name", ["vae", "beta_vae", "beta_vae_capacity", "conditional_vae", "vqvae"])
def test_every_builtin_model_conforms(name: str) -> None:
    from artifex_core.testing import tiny_config

    config = tiny_config(name, parameters={"embedding_dim": 4, "num_embeddings": 8}) if name == "vqvae" else None
    report = check_model(name, config=config)
    assert "loss" in report["loss_keys"]


def test_broken_model_is_reported(artifex_registries) -> None:
    class NoSample:
        """Lacks sample/generate."""

        def __init__(self, encoder, decoder, latent_dim, *, rngs):
            pass

        def __call__(self, x, *, rngs=None):
            return {"x": x}

        def loss_fn(self, **kwargs):
            return {}

    models.register("nosample", NoSample)
    with pytest.raises(ConformanceError, match="does not satisfy GenerativeModel"):
        check_model("nosample")
