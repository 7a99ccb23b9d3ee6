"""Unified factories: names resolve through the registries, configs reach the constructors."""

from __future__ import annotations

import jax.numpy as jnp
import pytest
from flax import nnx

from artifex_core import (
    GenerativeModel,
    ModelConfig,
    UnknownNameError,
    create_decoder_unified,
    create_encoder_unified,
    create_model,
    list_models,
)
from artifex_core import encoders, models

TINY = {"input_dim": (12,), "latent_dim": 3, "hidden_dims": (8, 6)}


def test_encoder_types_dense_mlp_cnn_resnet() -> None:
    cfg = ModelConfig(**TINY)
    dense = create_encoder_unified(config=cfg, encoder_type="dense", rngs=nnx.Rngs(0))
    assert type(dense) is encoders.get("mlp")
    img = ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(4, 8))
    for name in ("cnn", "resnet"):
        enc = create_encoder_unified(config=img, encoder_type=name, rngs=nnx.Rngs(0))
        mean, log_var = enc(jnp.ones((2, 8, 8, 1)))
        assert mean.shape == log_var.shape == (2, 3)


def test_decoder_gets_hidden_dims_in_decoding_order() -> None:
    cfg = ModelConfig(**TINY)
    dec = create_decoder_unified(config=cfg, decoder_type="mlp", rngs=nnx.Rngs(0))
    assert list(dec.hidden_dims) == [6, 8]  # config order reversed once, by the factory
    explicit = ModelConfig(**TINY, decoder_hidden_dims=(5, 7))
    dec = create_decoder_unified(config=explicit, decoder_type="mlp", rngs=nnx.Rngs(0))
    assert list(dec.hidden_dims) == [5, 7]  # used as given
    assert dec(jnp.ones((2, 3))).shape == (2, 12)


def test_conditional_wrapping() -> None:
    cfg = ModelConfig(**TINY)
    enc = create_encoder_unified(config=cfg, encoder_type="mlp", conditional=True, num_classes=4, embed_dim=5,
                                 rngs=nnx.Rngs(0))
    assert type(enc) is encoders.get("conditional") and enc.num_classes == 4
    mean, _ = enc(jnp.ones((2, 12)), condition=jnp.array([0, 3]))
    assert mean.shape == (2, 3)
    with pytest.raises(ValueError, match="num_classes"):
        create_encoder_unified(config=cfg, encoder_type="mlp", conditional=True, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="is a wrapper"):
        create_encoder_unified(config=cfg, encoder_type="conditional", rngs=nnx.Rngs(0))


def test_unknown_type_raises_with_suggestion() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'resnet'"):
        create_encoder_unified(config=ModelConfig(**TINY), encoder_type="resnt", rngs=nnx.Rngs(0))


def test_spec_import_paths_reexport_the_factories() -> None:
    from artifex_plugins.vae.decoders import create_decoder_unified as dec_factory
    from artifex_plugins.vae.encoders import create_encoder_unified as enc_factory

    assert enc_factory is create_encoder_unified and dec_factory is create_decoder_unified


@pytest.mark.parametrize(
    ("name", "cls_name"),
    [("vae", "VAE"), ("beta_vae", "BetaVAE"), ("beta_vae_capacity", "BetaVAEWithCapacity"), ("vqvae", "VQVAE")],
)
def test_create_model_builds_the_registered_variant(name: str, cls_name: str) -> None:
    params = {"embedding_dim": 3, "num_embeddings": 4} if name == "vqvae" else {}
    model = create_model(ModelConfig(model=name, parameters=params, **TINY), rngs=nnx.Rngs(0))
    assert type(model).__name__ == cls_name  # never a BetaVAE for a capacity config (reference defect)
    assert isinstance(model, GenerativeModel)


def test_capacity_config_loss_has_capacity_terms() -> None:
    cfg = ModelConfig(model="beta_vae_capacity", parameters={"use_capacity_control": True, "capacity_max": 10.0,
                                                             "capacity_num_iter": 100, "gamma": 2.0}, **TINY)
    model = create_model(cfg, rngs=nnx.Rngs(0))
    losses = model.loss_fn(batch=jnp.ones((4, 12)), step=50)
    assert float(losses["current_capacity"]) == pytest.approx(5.0)
    assert float(losses["capacity_loss"]) == pytest.approx(2.0 * abs(float(losses["kl_loss"]) - 5.0), rel=1e-5)


def test_parameters_reach_the_constructor() -> None:
    cfg = ModelConfig(model="beta_vae", parameters={"beta_default": 3.5, "reconstruction_loss_type": "bce"}, **TINY)
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert float(model.loss_fn(batch=jnp.ones((2, 12)))["beta"]) == 3.5


def test_conditional_model_from_config() -> None:
    cfg = ModelConfig(model="conditional_vae", num_classes=5, embed_dim=4, **TINY)
    model = create_model(cfg, rngs=nnx.Rngs(0))
    out = model(jnp.ones((2, 12)), y=jnp.array([1, 4]))
    assert out["reconstructed"].shape == (2, 12)


def test_from_config_hook_is_preferred(artifex_registries) -> None:
    calls = []

    class WithFromConfig:
        @classmethod
        def from_config(cls, config, *, rngs):
            calls.append(config.latent_dim)
            return cls()

    models.register("custom", WithFromConfig)
    create_model(ModelConfig(model="custom", **TINY), rngs=nnx.Rngs(0))
    assert calls == [3]


def test_list_models_glob() -> None:
    found = list_models("beta*")
    assert {"beta_vae", "beta_vae_capacity"} <= set(found) and "vae" not in found and "vqvae" not in found


pytest_plugins = ["artifex_core.testing"]
