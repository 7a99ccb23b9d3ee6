"""model_config_for: dataset-derived defaults (input_dim, num_classes, VariantParams.dataset_defaults) and the
same build checks as ``artifex validate``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import Field, ValidationError

from artifex_core import DatasetInfo, VariantParams
from artifex_core.data import Dataset
from artifex_core import models
from artifex_core.training import RunSetupError, model_config_for

pytest_plugins = ["artifex_core.testing"]


def _dataset(n_train: int = 12, labels: bool = True) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.random((n_train, 4, 4, 1), dtype=np.float32)
    return Dataset.from_arrays(
        "toy", x, np.arange(n_train) % 3 if labels else None, x[:5], np.arange(5) % 3 if labels else None
    )


class _Sized(VariantParams):
    n_seen: int | None = Field(None, description="Any name: the core reads dataset_defaults, not the field.")
    shape_seen: list[int] | None = None

    @classmethod
    def dataset_defaults(cls, info: DatasetInfo) -> dict[str, Any]:
        assert info.name == "toy" and info.num_classes == 3
        return {"n_seen": info.num_train, "shape_seen": list(info.input_shape)}


class _NeedsLabels(VariantParams):
    requires_condition = True


def test_input_dim_and_num_classes_come_from_the_dataset() -> None:
    cfg = model_config_for({"model": "conditional_vae", "latent_dim": 2, "hidden_dims": [4]}, _dataset())
    assert cfg.input_dim == (4, 4, 1) and cfg.num_classes == 3 and cfg.conditional


def test_dataset_defaults_fill_what_the_config_leaves_out(artifex_registries) -> None:
    models.register("sized", "artifex_plugins.vae.base:VAE", params=_Sized)
    cfg = model_config_for({"model": "sized", "latent_dim": 2, "hidden_dims": [4]}, _dataset(12))
    assert cfg.parameters == {"n_seen": 12, "shape_seen": [4, 4, 1]}
    given = model_config_for({"model": "sized", "parameters": {"n_seen": 99}}, _dataset(12).subset(7))
    assert given.parameters == {"n_seen": 99, "shape_seen": [4, 4, 1]}  # an explicit value wins


def test_requires_condition_makes_the_model_conditional_and_needs_labels(artifex_registries) -> None:
    models.register("labelled", "artifex_plugins.vae.conditional:ConditionalVAE", params=_NeedsLabels)
    cfg = model_config_for({"model": "labelled", "latent_dim": 2, "hidden_dims": [4]}, _dataset())
    assert cfg.conditional and cfg.num_classes == 3
    with pytest.raises(RunSetupError, match="model 'labelled' is conditional but dataset 'toy' has no labels"):
        model_config_for({"model": "labelled"}, _dataset(labels=False))


def test_train_rejects_what_validate_rejects() -> None:
    """check_buildable runs here too: an unknown encoder argument is an error before anything is built."""
    with pytest.raises(ValidationError, match="encoder_kwargs.widht: unknown argument"):
        model_config_for({"model": "vae", "latent_dim": 2, "hidden_dims": [4], "encoder_kwargs": {"widht": 3}},
                         _dataset())
