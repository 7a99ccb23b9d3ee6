"""VQ-VAE on spatial ``(B, H, W, D)`` latents from CNN and ResNet encoders built with ``spatial=True``."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae import VQVAE
from artifex_plugins.vae.decoders import CNNDecoder, ResNetDecoder
from artifex_plugins.vae.encoders import CNNEncoder, ResNetEncoder

E, K = 2, 8


@pytest.mark.parametrize("kind", ["cnn", "resnet"])
def test_spatial_latents(kind):
    rngs = nnx.Rngs(0)
    if kind == "cnn":
        enc = CNNEncoder([4], 4, input_dim=(4, 4, 1), spatial=True, rngs=rngs)
        dec = CNNDecoder([4], (4, 4, 1), 4, spatial=True, rngs=rngs)
    else:
        enc = ResNetEncoder([4], 4, input_dim=(4, 4, 1), spatial=True, blocks_per_stage=1, rngs=rngs)
        dec = ResNetDecoder([4], (4, 4, 1), 4, spatial=True, blocks_per_stage=1, rngs=rngs)
    model = VQVAE(enc, dec, latent_dim=4, num_embeddings=K, embedding_dim=E, rngs=rngs)
    assert model.latent.latent_shape == (2, 2, 4)
    x = jax.random.uniform(jax.random.key(0), (3, 4, 4, 1))
    out = nnx.jit(lambda m, x: m(x))(model, x)
    assert out["z_e"].shape == (3, 2, 2, 4) and out["encoding_indices"].shape == (3, 2, 2, 2)
    assert out["reconstructed"].shape == x.shape
    assert float(model.latent.code_counts[...].sum()) == 3 * 2 * 2 * 2
    assert model.sample(2).shape == (2, 4, 4, 1)
    assert model.interpolate(x[0], x[1], steps=3).shape == (3, 4, 4, 1)
    assert model.latent_traversal(x[0], dim=1, steps=3).shape == (3, 4, 4, 1)
    losses = model.loss_fn(x=x, outputs=out)
    assert np.isfinite(float(losses["loss"]))
