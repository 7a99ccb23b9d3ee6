"""ConditionalVAE around CNN and ResNet bases on images, lazy and fixed ``input_dim``.

Reference defects: a conditional VAE with a CNN encoder crashed, and its interpolation and traversal
crashed on images.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae import ConditionalVAE
from artifex_plugins.vae.decoders import CNNDecoder, ConditionalDecoder, ResNetDecoder
from artifex_plugins.vae.encoders import CNNEncoder, ConditionalEncoder, ResNetEncoder

C, L = 3, 4
IMAGE = (4, 4, 1)


def build(kind: str, lazy: bool, seed: int = 0, **kwargs) -> ConditionalVAE:
    rngs = nnx.Rngs(seed)
    input_dim = None if lazy else IMAGE
    if kind == "cnn":
        enc = CNNEncoder([4], L, input_dim=input_dim, rngs=rngs)
        dec = CNNDecoder([4], IMAGE, L, rngs=rngs)
    else:
        enc = ResNetEncoder([4], L, input_dim=input_dim, rngs=rngs, blocks_per_stage=1)
        dec = ResNetDecoder([4], IMAGE, L, rngs=rngs, blocks_per_stage=1)
    return ConditionalVAE(
        encoder=ConditionalEncoder(enc, num_classes=C, embed_dim=4, rngs=rngs),
        decoder=ConditionalDecoder(dec, num_classes=C, embed_dim=4, rngs=rngs),
        latent_dim=L,
        condition_dim=C,
        rngs=rngs,
        **kwargs,
    )


def data(kind: str, n: int = 4, seed: int = 1) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), (n, *IMAGE))


CASES = [("cnn", True), ("cnn", False), ("resnet", True), ("resnet", False)]
IDS = [f"{k}-{'lazy' if lazy else 'fixed'}" for k, lazy in CASES]


@pytest.mark.parametrize(("kind", "lazy"), CASES, ids=IDS)
def test_labels_as_ints_or_one_hot_give_identical_results(kind, lazy):
    # reference defect: a conditional VAE with a CNN encoder crashed
    model = build(kind, lazy)
    x, y = data(kind), jnp.array([0, 1, 2, 1])
    out_int = model(x, y=y, rngs=nnx.Rngs(1))
    out_hot = model(x, y=jax.nn.one_hot(y, C), rngs=nnx.Rngs(1))
    assert out_int["reconstructed"].shape == x.shape
    assert list(out_int) == ["reconstructed", "reconstruction", "mean", "log_var", "logvar", "z"]
    for key in ("reconstructed", "mean", "log_var", "z"):
        np.testing.assert_allclose(out_int[key], out_hot[key], rtol=1e-5, atol=1e-6)
    mean_int = model.encode(x, y)[0]
    np.testing.assert_allclose(mean_int, model.encode(x, jax.nn.one_hot(y, C))[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(mean_int, model.encode(x, jnp.zeros(4, jnp.int32))[0])

@pytest.mark.parametrize(("kind", "lazy"), [("cnn", False), ("resnet", True)], ids=["cnn-fixed", "resnet-lazy"])
def test_changing_y_changes_what_is_decoded(kind, lazy):
    model = build(kind, lazy)
    model(data(kind), y=0)  # builds lazy layers
    z = jax.random.normal(jax.random.key(3), (2, L))
    a, b = model.decode(z, jnp.array([0, 0])), model.decode(z, jnp.array([1, 1]))
    assert a.shape == (2, *IMAGE)
    assert not np.allclose(a, b)
    np.testing.assert_allclose(model.decode(z, jnp.array([2, 2])), model.decode(z, 2), rtol=1e-6)


@pytest.mark.parametrize(("kind", "lazy"), [("cnn", True), ("resnet", False)], ids=["cnn-lazy", "resnet-fixed"])
def test_interpolate_and_traversal_on_images(kind, lazy):
    # reference defect: interpolation and traversal crashed on images
    model = build(kind, lazy)
    x = data(kind)
    frames = model.interpolate(x[0], x[1], steps=4, y=1)
    assert frames.shape == (4, *IMAGE)
    np.testing.assert_allclose(
        frames[0], model.reconstruct(x[:1], y=jnp.array([1]), deterministic=True)[0], rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        frames[-1], model.reconstruct(x[1:2], y=1, deterministic=True)[0], rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(model.interpolate(x[:1], x[1:2], 4, y=jnp.array([1])), frames, rtol=1e-5, atol=1e-6)
    assert not np.allclose(frames[0], frames[-1])
    trav = model.latent_traversal(x[0], dim=2, steps=3, y=jax.nn.one_hot(1, C))
    assert trav.shape == (3, *IMAGE) and not np.allclose(trav[0], trav[-1])
    np.testing.assert_allclose(model.latent_traversal(x[0], 2, steps=3, y=1), trav, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="y is required"):
        model.latent_traversal(x[0], 2, steps=3)
    with pytest.raises(ValueError, match="dim"):
        model.latent_traversal(x[0], dim=L, y=0)


def test_under_jit():
    model = build("cnn", False)
    x, y = data("cnn"), jnp.array([0, 1, 2, 0])
    out = nnx.jit(lambda m, x, y: m(x, y=y))(model, x, y)
    assert out["reconstructed"].shape == x.shape
    loss = nnx.jit(lambda m, b: m.loss_fn(batch=b, step=1)["loss"])(model, {"x": x, "y": y})
    assert np.isfinite(float(loss))
