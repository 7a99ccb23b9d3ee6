"""model_config_for: dataset-derived defaults (input_dim, num_classes, dataset_size)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from artifex_core.data import Dataset
from artifex_core.registry import models
from artifex_core.training.run import model_config_for

pytest_plugins = ["artifex_core.testing"]


def _dataset(n_train: int = 12) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.random((n_train, 4, 4, 1), dtype=np.float32)
    return Dataset.from_arrays("toy", x, np.arange(n_train) % 3, x[:5], np.arange(5) % 3)


class _WithSize(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    dataset_size: int | None = None


def test_input_dim_and_num_classes_come_from_the_dataset() -> None:
    cfg = model_config_for({"model": "conditional_vae", "latent_dim": 2, "hidden_dims": [4]}, _dataset())
    assert cfg.input_dim == (4, 4, 1) and cfg.num_classes == 3 and cfg.conditional


def test_dataset_size_parameter_is_filled_with_the_training_split(artifex_registries) -> None:
    models.register("sized", "artifex_plugins.vae.base:VAE", params=_WithSize)
    cfg = model_config_for({"model": "sized", "latent_dim": 2, "hidden_dims": [4]}, _dataset(12))
    assert cfg.parameters == {"dataset_size": 12}
    given = model_config_for({"model": "sized", "parameters": {"dataset_size": 99}}, _dataset(12))
    assert given.parameters == {"dataset_size": 99}  # an explicit value wins
