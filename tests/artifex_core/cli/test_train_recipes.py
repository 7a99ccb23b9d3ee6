"""``artifex train --model NAME``: registered recipes (qualified ids too), the fallback for a plugin model without
one (its own parameter defaults, binarization from its declared likelihood), bad recipes, the build checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import Field
from typer.testing import CliRunner

import artifex_core
from artifex_core import VariantParams
from artifex_core.cli import app

pytest_plugins = ["artifex_core.testing"]

runner = CliRunner()
SMALL = ["--epochs", "1", "--set", "hidden_dims=[16]", "--set", "warmup_steps=2", "--json"]


class PlainParams(VariantParams):
    """A plugin model's parameters without ``reconstruction_loss_type``."""

    kl_weight: float = Field(0.5, ge=0, description="Weight of the KL term.")


class _PlainPlugin:
    @artifex_core.hookimpl
    def artifex_register(self, registry):
        registry.models.register("plain_vae", "artifex_plugins.vae.base:VAE", params=PlainParams)
        registry.recipes.register("broken_recipe", lambda: ["not", "a", "mapping"])


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "artifex-cache"))


@pytest.fixture
def npz(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "grey.npz"
    np.savez(path, x=rng.integers(0, 256, (96, 4, 4), dtype=np.uint8))
    return path


def _config(out: Path) -> dict:
    return json.loads((out / "config.json").read_text())


def test_a_qualified_model_id_trains_with_its_recipe(tmp_path: Path) -> None:
    out = tmp_path / "vq"
    result = runner.invoke(app, ["train", "--model", "builtin:vqvae", "--limit", "256", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    config = _config(out)
    assert config["model"]["model"] == "vqvae" and config["model"]["latent_dim"] == 64  # as its recipe names it
    assert config["model"]["parameters"] == {"num_embeddings": 128, "embedding_dim": 16, "reconstruction_loss_type": "mse"}
    assert config["train"]["dataset"] == "mnist" and config["train"]["binarize"] == "none"  # mse: no binarization


def test_a_plugin_model_without_a_recipe_trains_on_its_own_defaults(artifex_plugin, npz: Path, tmp_path: Path) -> None:
    artifex_plugin(_PlainPlugin(), name="plain")
    out = tmp_path / "plain"
    result = runner.invoke(app, ["train", "--model", "plain_vae", "--dataset", str(npz), "--batch-size", "16",
                                 "--set", "latent_dim=2", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    config = _config(out)
    assert config["model"]["model"] == "plain_vae" and config["model"]["parameters"] == {}  # nothing injected
    assert config["model"]["hidden_dims"] == [16] and config["model"]["encoder"] == "mlp"  # the default recipe's
    assert config["train"]["binarize"] == "none"  # it declares no Bernoulli likelihood
    assert config["train"]["epochs"] == 1 and config["train"]["batch_size"] == 16


def test_a_badly_shaped_recipe_fails_in_one_line(artifex_plugin, tmp_path: Path) -> None:
    artifex_plugin(_PlainPlugin(), name="plain")
    result = runner.invoke(app, ["train", "--model", "broken_recipe", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: recipe 'plain:broken_recipe' (returned by its callable) must be a mapping")


def test_train_rejects_what_validate_rejects(npz: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--dataset", str(npz), "--out", str(tmp_path / "r"),
                                 "--set", "encoder_kwargs.widht=3", *SMALL])
    assert result.exit_code == 2, result.output
    assert "encoder_kwargs.widht: unknown argument for encoder 'mlp'" in result.stderr
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_a_qualified_id_names_the_default_run_folder_by_its_short_name() -> None:
    from artifex_core.cli._train_cmds import _default_out

    assert _default_out("builtin:vqvae", "mnist").name.startswith("vqvae-mnist-")
