"""BetaTCVAE inherits the base VAE's input checks: empty batches and bad ``n_samples`` are ValueErrors."""

from __future__ import annotations

import jax.numpy as jnp
import pytest
from flax import nnx

from artifex_core import ModelConfig, create_model
from artifex_tcvae import BetaTCVAE


@pytest.fixture(scope="module")
def model() -> BetaTCVAE:
    cfg = ModelConfig(model="tcvae", input_dim=(6,), latent_dim=2, hidden_dims=(8,), parameters={"dataset_size": 100})
    return create_model(cfg, rngs=nnx.Rngs(0))


def test_an_empty_batch_is_a_value_error(model: BetaTCVAE) -> None:
    empty = jnp.zeros((0, 6))
    calls = (
        lambda: model(empty),
        lambda: model.encode(empty),
        lambda: model.loss_fn(x=empty),
        lambda: model.loss_fn(batch={"x": empty}),
        lambda: model.loss_fn(x=empty, outputs=model(jnp.ones((2, 6)))),
        lambda: nnx.jit(lambda m, x: m.loss_fn(x=x)["loss"])(model, empty),
    )
    for call in calls:
        with pytest.raises(ValueError, match=r"BetaTCVAE: empty batch: x has shape \(0, 6\)"):
            call()


@pytest.mark.parametrize("n", [0, -1, 1.5])
def test_n_samples_must_be_a_positive_integer(model: BetaTCVAE, n: object) -> None:
    with pytest.raises(ValueError, match=r"BetaTCVAE: n_samples must be an integer >= 1"):
        model.sample(n)
    assert model.sample(2).shape == (2, 6)
