"""The spec page's module overview, encoder and utility-function examples, run verbatim.

Only the import prefix is changed (``artifex.generative_models.models.vae`` -> ``artifex_plugins.vae``);
each test defines the names its snippet assumes (``rngs``, ``x``, ``images``, ``z``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

from artifex_core.config import ModelConfig


@pytest.fixture
def rngs():
    return nnx.Rngs(params=0, dropout=1, sample=2)


def test_module_overview_imports():
    from artifex_plugins.vae import (
        VAE,                    # Base VAE class
        BetaVAE,               # β-VAE with disentanglement
        BetaVAEWithCapacity,   # β-VAE with capacity control
        ConditionalVAE,        # Conditional VAE
        VQVAE,                 # Vector Quantized VAE
    )

    from artifex_plugins.vae.encoders import (
        MLPEncoder,            # Fully-connected encoder
        CNNEncoder,            # Convolutional encoder
        ResNetEncoder,         # ResNet-based encoder
        ConditionalEncoder,    # Conditional wrapper
    )

    from artifex_plugins.vae.decoders import (
        MLPDecoder,            # Fully-connected decoder
        CNNDecoder,            # Transposed convolutional decoder
        ResNetDecoder,         # ResNet-based decoder
        ConditionalDecoder,    # Conditional wrapper
    )

    assert all(issubclass(cls, VAE) for cls in (BetaVAE, BetaVAEWithCapacity, ConditionalVAE, VQVAE))
    modules = (MLPEncoder, CNNEncoder, ResNetEncoder, ConditionalEncoder)
    modules += (MLPDecoder, CNNDecoder, ResNetDecoder, ConditionalDecoder)
    assert all(issubclass(cls, nnx.Module) for cls in modules)


def test_mlp_encoder_example(rngs):
    from artifex_plugins.vae.encoders import MLPEncoder

    x = jax.random.uniform(jax.random.key(0), (4, 784))

    encoder = MLPEncoder(
        hidden_dims=[512, 256, 128],
        latent_dim=32,
        activation="relu",
        input_dim=(784,),
        rngs=rngs,
    )

    mean, log_var = encoder(x, rngs=rngs)

    assert mean.shape == log_var.shape == (4, 32)
    assert [layer.out_features for layer in encoder.layers] == [512, 256, 128]


def test_cnn_encoder_example(rngs):
    from artifex_plugins.vae.encoders import CNNEncoder

    images = jax.random.uniform(jax.random.key(0), (2, 28, 28, 1))

    encoder = CNNEncoder(
        hidden_dims=[32, 64, 128, 256],
        latent_dim=64,
        activation="relu",
        input_dim=(28, 28, 1),
        rngs=rngs,
    )

    # Input shape: (batch, 28, 28, 1)
    mean, log_var = encoder(images, rngs=rngs)
    # Output shapes: (batch, 64), (batch, 64)

    assert mean.shape == log_var.shape == (2, 64)


def test_conditional_encoder_example(rngs):
    from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder

    x = jax.random.uniform(jax.random.key(0), (4, 784))

    base_encoder = MLPEncoder(
        hidden_dims=[512, 256],
        latent_dim=32,
        rngs=rngs,
    )

    conditional_encoder = ConditionalEncoder(
        encoder=base_encoder,
        num_classes=10,
        embed_dim=128,
        rngs=rngs,
    )

    # Pass class labels as integers or one-hot
    labels = jnp.array([0, 1, 2, 3])
    mean, log_var = conditional_encoder(x, condition=labels, rngs=rngs)

    assert mean.shape == log_var.shape == (4, 32)
    one_hot_mean, _ = conditional_encoder(x, condition=jax.nn.one_hot(labels, 10), rngs=rngs)
    assert jnp.array_equal(mean, one_hot_mean)
    # The base keeps the data's shape: the label's embedding is projected and added, not concatenated.
    assert base_encoder.input_dim == conditional_encoder.input_dim == (784,)


def test_unified_factories_signatures(rngs):
    from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder, create_decoder_unified
    from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder, create_encoder_unified

    config = ModelConfig(input_dim=(784,), latent_dim=16, hidden_dims=(64, 32))
    encoder = create_encoder_unified(config=config, encoder_type="dense", rngs=rngs)
    decoder = create_decoder_unified(config=config, decoder_type="dense", rngs=rngs)
    assert isinstance(encoder, MLPEncoder) and isinstance(decoder, MLPDecoder)
    assert decoder.hidden_dims == [32, 64]
    cond_encoder = create_encoder_unified(
        config=config, encoder_type="dense", conditional=True, num_classes=10, embed_dim=8, rngs=rngs
    )
    cond_decoder = create_decoder_unified(
        config=config, decoder_type="dense", conditional=True, num_classes=10, embed_dim=8, rngs=rngs
    )
    assert isinstance(cond_encoder, ConditionalEncoder) and isinstance(cond_decoder, ConditionalDecoder)
