"""The spec page's decoder examples, run verbatim.

Only the import prefix is changed (``artifex.generative_models.models.vae`` -> ``artifex_plugins.vae``);
each test defines the names its snippet assumes (``rngs``, ``z``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from flax import nnx


@pytest.fixture
def rngs():
    return nnx.Rngs(params=0, dropout=1, sample=2)


def test_mlp_decoder_example(rngs):
    from artifex_plugins.vae.decoders import MLPDecoder

    z = jax.random.normal(jax.random.key(0), (3, 32))

    decoder = MLPDecoder(
        hidden_dims=[128, 256, 512],  # Reversed from encoder
        output_dim=(784,),
        latent_dim=32,
        activation="relu",
        rngs=rngs,
    )

    reconstructed = decoder(z)  # Shape: (batch, 784)

    assert reconstructed.shape == (3, 784)
    assert [layer.out_features for layer in decoder.layers] == [128, 256, 512]  # used as given, never reversed


def test_cnn_decoder_example(rngs):
    from artifex_plugins.vae.decoders import CNNDecoder

    z = jax.random.normal(jax.random.key(0), (2, 64))

    decoder = CNNDecoder(
        hidden_dims=[256, 128, 64, 32],  # Reversed channels
        output_dim=(28, 28, 1),
        latent_dim=64,
        activation="relu",
        rngs=rngs,
    )

    # Input: (batch, 64)
    reconstructed = decoder(z)  # Output: (batch, 28, 28, 1)

    assert reconstructed.shape == (2, 28, 28, 1)
    assert decoder.feature_grid == (2, 2)
    assert decoder.input_layer.out_features == 2 * 2 * 256
    assert [b.conv.out_features // 4 for b in decoder.blocks] == [256, 128, 64, 32]
    assert [b.target_hw for b in decoder.blocks] == [(4, 4), (7, 7), (14, 14), (28, 28)]


def test_conditional_decoder_example(rngs):
    from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder

    z = jax.random.normal(jax.random.key(0), (4, 32))

    base_decoder = MLPDecoder(
        hidden_dims=[128, 256, 512],
        output_dim=(784,),
        latent_dim=32,
        rngs=rngs,
    )

    conditional_decoder = ConditionalDecoder(
        decoder=base_decoder,
        num_classes=10,
        embed_dim=128,
        rngs=rngs,
    )

    labels = jnp.array([0, 1, 2, 3])
    reconstructed = conditional_decoder(z, condition=labels, rngs=rngs)

    assert reconstructed.shape == (4, 784)
    other = conditional_decoder(z, condition=jnp.array([4, 5, 6, 7]), rngs=rngs)
    assert not jnp.allclose(other, reconstructed)
