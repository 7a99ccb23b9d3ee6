"""The built-in params classes: what they derive from the config and what they refuse."""

from __future__ import annotations

import pytest
from flax import nnx
from pydantic import ValidationError

from artifex_core import ModelConfig, create_model

TINY = {"input_dim": (12,), "latent_dim": 4, "hidden_dims": (8,), "embed_dim": 4}


def test_condition_dim_follows_num_classes_without_the_core_naming_it() -> None:
    cfg = ModelConfig(model="conditional_vae", num_classes=5, **TINY)
    assert cfg.parameters == {} and cfg.resolved_parameters()["condition_dim"] == 5
    assert create_model(cfg, rngs=nnx.Rngs(0)).condition_dim == 5
    same = ModelConfig(model="conditional_vae", num_classes=5, parameters={"condition_dim": 5}, **TINY)
    assert same.resolved_parameters()["condition_dim"] == 5


def test_a_condition_dim_that_contradicts_num_classes_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"parameters.condition_dim: 3 differs from num_classes=5"):
        ModelConfig(model="conditional_vae", num_classes=5, parameters={"condition_dim": 3}, **TINY)
