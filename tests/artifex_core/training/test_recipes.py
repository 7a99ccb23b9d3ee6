"""The recipe machinery: registered mapping and callable targets, shape errors, lookup and the fallback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from artifex_core import Registry, models, recipes
from artifex_core.training import TrainConfig
from artifex_core.training import RecipeError, default_recipe, recipe
from artifex_core.training._recipes import DEFAULT

pytest_plugins = ["artifex_core.testing"]

TINY = {"model": {"model": "vae", "latent_dim": 2, "hidden_dims": [4]}, "train": {"epochs": 1, "dataset": "x.npz"}}


def _own(*named: tuple[str, object]) -> Registry:
    reg = Registry("recipe")
    for name, target in named:
        reg.register(name, target)
    return reg


def test_a_mapping_target_gives_fresh_copies() -> None:
    reg = _own(("tiny", TINY))
    model, train = recipe("tiny", within=reg)
    assert (model, train) == (TINY["model"], TINY["train"])
    model["hidden_dims"].append(99)
    assert recipe("tiny", within=reg)[0]["hidden_dims"] == [4]  # the registered recipe is untouched


def test_a_callable_target_is_called_each_time() -> None:
    calls: list[int] = []

    def make() -> dict:
        calls.append(1)
        return {"train": {"epochs": len(calls)}}

    reg = _own(("made", make))
    assert recipe("made", within=reg) == ({"model": "made"}, {"epochs": 1})  # its name when it names no model
    assert recipe("made", within=reg)[1] == {"epochs": 2}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (["model"], 'recipe \'local:bad\' must be a mapping {"model": {...}, "train": {...}}, not list'),
        ({"model": {}, "optim": {}}, "recipe 'local:bad': unknown key 'optim' (allowed: model, train)"),
        ({"model": "vae"}, "recipe 'local:bad': 'model' must be a mapping of ModelConfig fields, not str"),
        ({"train": [1]}, "recipe 'local:bad': 'train' must be a mapping of TrainConfig fields, not list"),
        (lambda: 3, "recipe 'local:bad' (returned by its callable) must be a mapping"),
        (lambda: 1 / 0, "recipe 'local:bad': calling "),
        ("no_such_module_here:RECIPE", "recipe 'local:bad': no_such_module_here:RECIPE cannot be imported"),
    ],
)
def test_a_recipe_of_the_wrong_shape_is_a_clear_error(target: object, message: str) -> None:
    with pytest.raises(RecipeError) as info:
        recipe("bad", within=_own(("bad", target)))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_fallback_takes_the_default_recipe_without_its_parameters() -> None:
    default = {"model": {"model": "vae", "latent_dim": 3, "parameters": {"reconstruction_loss_type": "bce"}},
               "train": {"dataset": "d.npz", "epochs": 7}}
    reg = _own((DEFAULT, default))
    assert recipe(within=reg) == (default["model"], default["train"])  # plain `artifex train`
    model, train = recipe("someone_elses_model", within=reg)
    assert model == {"model": "someone_elses_model", "latent_dim": 3}  # never a parameter injected
    assert train == {"dataset": "d.npz", "epochs": 7}


def test_without_a_default_recipe_the_configs_defaults_apply() -> None:
    reg = Registry("recipe")
    assert default_recipe(within=reg) == ({}, {})
    assert recipe("m", within=reg) == ({"model": "m"}, {})
    assert recipe(within=reg) == ({}, {})


def test_lookup_by_qualified_id_and_by_a_model_alias(artifex_registries) -> None:
    vq = recipe("builtin:vqvae")
    assert vq == recipe("vqvae") and vq[0]["model"] == "vqvae" and vq[1]["epochs"] == 30
    models.register("aliased_model", "artifex_plugins.vae.base:VAE", aliases=("am",))
    recipes.register("aliased_model", {"train": {"epochs": 2}})
    assert recipe("am") == ({"model": "am"}, {"epochs": 2})  # the recipe of the model's own name


def test_train_config_dataset_defaults_to_the_default_recipes(artifex_registries) -> None:
    assert TrainConfig().dataset == default_recipe()[1]["dataset"]
    recipes.unregister_plugin("builtin")
    with pytest.raises(ValidationError, match="dataset: required"):
        TrainConfig()
    assert TrainConfig(dataset="mine.npz").dataset == "mine.npz"
