"""Registered losses take parameters from the config (``reconstruction_loss_kwargs``), checked by signature."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex_core import ModelConfig, create_model
from artifex_core import losses
from artifex_core.testing import isolated_registries
from artifex_plugins.vae import ReconstructionLoss, resolve_loss


def huber(reconstructed: jax.Array, x: jax.Array, *, delta: float = 1.0) -> jax.Array:
    """Huber loss summed over each example's data dimensions: shape (batch,)."""
    per_element = optax.huber_loss(reconstructed, x.reshape(reconstructed.shape), delta=delta)
    return per_element.reshape(per_element.shape[0], -1).sum(axis=-1)


def weighted(raw: jax.Array, x: jax.Array, *, weight: float) -> jax.Array:
    return weight * jnp.square(raw - x)


def _model(model: str, **parameters: object) -> nnx.Module:
    cfg = ModelConfig(model=model, input_dim=[6], latent_dim=2, hidden_dims=[8], parameters=parameters)
    return create_model(cfg, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("model", ["vae", "beta_vae", "beta_vae_capacity"])
def test_huber_delta_from_the_config_reaches_the_loss(model: str) -> None:
    x = jax.random.uniform(jax.random.key(1), (4, 6)) * 4.0
    with isolated_registries():
        losses.register("huber", huber, summary="Huber loss")
        half = _model(model, reconstruction_loss_type="huber", reconstruction_loss_kwargs={"delta": 0.5})
        default = _model(model, reconstruction_loss_type="huber")
    outputs = half(x, rngs=nnx.Rngs(2))
    expected = jnp.mean(huber(outputs["reconstructed"], x, delta=0.5))
    np.testing.assert_allclose(half.loss_fn(x=x, outputs=outputs)["reconstruction_loss"], expected, rtol=1e-6)
    assert not np.isclose(default.loss_fn(x=x, outputs=outputs)["reconstruction_loss"], expected)
    assert not half.normalized_likelihood  # a plain callable makes no normalisation claim


def test_conditional_and_vq_models_take_the_parameters_too() -> None:
    with isolated_registries():
        losses.register("huber", huber)
        vq = _model("vqvae", reconstruction_loss_type="huber", reconstruction_loss_kwargs={"delta": 0.1},
                    num_embeddings=4, embedding_dim=2)
        cfg = ModelConfig(model="conditional_vae", input_dim=[6], latent_dim=2, hidden_dims=[8], num_classes=3,
                          embed_dim=2, parameters={"condition_dim": 3, "reconstruction_loss_type": "huber",
                                                   "reconstruction_loss_kwargs": {"delta": 0.1}})
        cvae = create_model(cfg, rngs=nnx.Rngs(0))
    x = jnp.full((2, 6), 3.0)
    assert np.isfinite(vq.loss_fn(x=x)["loss"]) and np.isfinite(cvae.loss_fn(x=x, y=jnp.array([0, 2]))["loss"])


def test_bad_parameters_are_errors_that_name_the_loss_and_its_parameters() -> None:
    with isolated_registries():
        losses.register("huber", huber)
        losses.register("weighted", ReconstructionLoss("weighted", weighted))
        with pytest.raises(ValueError, match=r"reconstruction_loss_kwargs: loss 'huber' has no parameter 'dleta' "
                                             r"\(its parameters: delta\)"):
            _model("vae", reconstruction_loss_type="huber", reconstruction_loss_kwargs={"dleta": 0.5})
        with pytest.raises(ValueError, match="reconstruction_loss_kwargs: loss 'weighted' needs parameter 'weight'"):
            _model("vae", reconstruction_loss_type="weighted")
        scaled = resolve_loss("weighted", {"weight": 3.0})
        assert float(scaled(jnp.ones((1, 2)), jnp.zeros((1, 2)))[0]) == 6.0
    with pytest.raises(ValueError, match=r"loss 'mse' has no parameter 'delta' \(its parameters: none\)"):
        _model("vae", reconstruction_loss_kwargs={"delta": 1.0})
    with pytest.raises(ValueError, match="reconstruction_loss_kwargs"):
        ModelConfig(model="vae", parameters={"reconstruction_loss_kwargs": [1, 2]})  # a mapping, by the params
