"""The built-in recipes: registered by the built-in plugin, each exactly what ``artifex train`` trained before."""

from __future__ import annotations

import pytest

from artifex_core import ModelConfig
from artifex_core import recipes
from artifex_core.training import TrainConfig
from artifex_core.training import recipe
from artifex_plugins import RECIPES

MODEL = {"model": "vae", "encoder": "mlp", "decoder": "mlp", "hidden_dims": [512, 256], "latent_dim": 32,
         "activation": "relu", "parameters": {"reconstruction_loss_type": "bce"}}
TRAIN = {"dataset": "mnist", "epochs": 100, "batch_size": 64, "optimizer": "adam", "lr": 2e-3,
         "schedule": "warmup_cosine", "warmup_steps": 100, "final_lr_factor": 0.05, "binarize": "auto"}


def test_every_builtin_recipe_is_registered_by_the_builtin_plugin() -> None:
    builtin = {name for name in recipes.names() if recipes.entry(name).plugin.name == "builtin"}
    assert set(RECIPES) == builtin >= {"default", "vae", "vqvae"}
    for name in RECIPES:
        entry = recipes.entry(name)
        assert entry.plugin.name == "builtin" and entry.summary, name
        assert entry.load() is getattr(__import__("artifex_plugins._recipes")._recipes, f"{name.upper()}_RECIPE")


def test_the_default_and_per_model_recipes_are_unchanged() -> None:
    assert recipe() == (MODEL, TRAIN) == recipe("vae")
    assert recipe("beta_vae") == ({**MODEL, "model": "beta_vae"}, TRAIN)
    assert recipe("beta_vae_capacity") == ({**MODEL, "model": "beta_vae_capacity"}, TRAIN)
    cvae = {**MODEL, "model": "conditional_vae", "embed_dim": 16,
            "parameters": {"reconstruction_loss_type": "bce", "kl_weight": 1.5}}  # docs/quality.md: 96.6%
    assert recipe("conditional_vae") == (cvae, TRAIN)
    vq = {**MODEL, "model": "vqvae", "latent_dim": 64,
          "parameters": {"num_embeddings": 128, "embedding_dim": 16, "reconstruction_loss_type": "mse"}}
    assert recipe("vqvae") == (vq, {**TRAIN, "epochs": 30}) == recipe("builtin:vqvae")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_builtin_recipe_validates(name: str) -> None:
    model, train = recipe(name)
    ModelConfig.model_validate({**model, "input_dim": [28, 28, 1], "num_classes": 10})
    TrainConfig.model_validate(train)
