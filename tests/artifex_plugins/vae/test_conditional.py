"""ConditionalVAE around MLP bases on flat inputs and CNN / ResNet bases on images, lazy and fixed ``input_dim``.

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
from artifex_plugins.vae.decoders import CNNDecoder, ConditionalDecoder, MLPDecoder, ResNetDecoder
from artifex_plugins.vae.encoders import CNNEncoder, ConditionalEncoder, MLPEncoder, ResNetEncoder

C, L = 3, 4
FLAT = (6,)
IMAGE = (4, 4, 1)
SHAPES = {"mlp": FLAT, "cnn": IMAGE, "resnet": IMAGE}
NETWORKS = {
    "mlp": (MLPEncoder, MLPDecoder, {}),
    "cnn": (CNNEncoder, CNNDecoder, {}),
    "resnet": (ResNetEncoder, ResNetDecoder, {"blocks_per_stage": 1}),
}


def build(kind: str, lazy: bool, seed: int = 0, **kwargs) -> ConditionalVAE:
    rngs = nnx.Rngs(seed)
    enc_cls, dec_cls, extra = NETWORKS[kind]
    shape, width = SHAPES[kind], 8 if kind == "mlp" else 4
    enc = enc_cls([width], L, input_dim=None if lazy else shape, rngs=rngs, **extra)
    dec = dec_cls([width], shape, L, rngs=rngs, **extra)
    return ConditionalVAE(
        encoder=ConditionalEncoder(enc, num_classes=C, embed_dim=4, rngs=rngs),
        decoder=ConditionalDecoder(dec, num_classes=C, embed_dim=4, rngs=rngs),
        latent_dim=L,
        condition_dim=C,
        rngs=rngs,
        **kwargs,
    )


def data(kind: str, n: int = 4, seed: int = 1) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), (n, *SHAPES[kind]))


CASES = [(kind, lazy) for kind in NETWORKS for lazy in (True, False)]
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

@pytest.mark.parametrize(
    ("kind", "lazy"), [("mlp", True), ("mlp", False), ("cnn", False), ("resnet", True)], ids=lambda v: str(v)
)
def test_changing_y_changes_what_is_decoded(kind, lazy):
    model = build(kind, lazy)
    model(data(kind), y=0)  # builds lazy layers
    z = jax.random.normal(jax.random.key(3), (2, L))
    a, b = model.decode(z, jnp.array([0, 0])), model.decode(z, jnp.array([1, 1]))
    assert a.shape == (2, *SHAPES[kind])
    assert not np.allclose(a, b)
    np.testing.assert_allclose(model.decode(z, jnp.array([2, 2])), model.decode(z, 2), rtol=1e-6)


def test_sample_with_conditions():
    model = build("mlp", False)
    s = model.sample(n_samples=4, y=jnp.array([2, 2, 2, 2]), rngs=nnx.Rngs(5))
    assert s.shape == (4, *FLAT)
    np.testing.assert_allclose(s, model.sample(4, y=2, rngs=nnx.Rngs(5)), rtol=1e-6)
    np.testing.assert_allclose(s, model.sample(4, y=jax.nn.one_hot(2, C), rngs=nnx.Rngs(5)), rtol=1e-6)
    # a float vector is one one-hot row even when n_samples == condition_dim
    np.testing.assert_allclose(
        model.sample(C, y=jax.nn.one_hot(2, C), rngs=nnx.Rngs(5)), model.sample(C, y=2, rngs=nnx.Rngs(5)), rtol=1e-6
    )
    assert not np.allclose(s, model.sample(4, y=0, rngs=nnx.Rngs(5)))
    np.testing.assert_allclose(model.generate(4, y=2, rngs=nnx.Rngs(5)), s, rtol=1e-6)
    with pytest.raises(ValueError, match="conditions for a batch"):
        model.sample(3, y=jnp.array([0, 1]))


def test_y_is_required_except_by_sample():
    # was: without y every example silently got label 0 (see test_input_checks.py for the details)
    model = build("mlp", False)
    with pytest.raises(ValueError, match="y is required"):
        model(data("mlp"), rngs=nnx.Rngs(1))


def test_loss_fn_uses_batch_labels():
    model = build("mlp", False)
    x, key = data("mlp"), jax.random.key(0)
    y1, y2 = jnp.array([0, 1, 2, 0]), jnp.array([2, 2, 2, 2])
    l1 = model.loss_fn(batch={"x": x, "y": y1}, rng=key)["loss"]
    assert float(l1) != float(model.loss_fn(batch={"x": x, "y": y2}, rng=key)["loss"])
    np.testing.assert_allclose(model.loss_fn(batch={"image": x, "labels": y1}, rng=key)["loss"], l1, rtol=1e-6)
    np.testing.assert_allclose(model.loss_fn(x=x, y=y1, rng=key)["loss"], l1, rtol=1e-6)
    out = model(x, y=y1)
    losses = model.loss_fn(x=x, outputs=out, y=y1)
    assert {"reconstruction_loss", "kl_loss", "total_loss", "loss"} <= set(losses)


def test_bce_recompute_from_outputs_uses_the_labels():
    model = build("mlp", False, reconstruction_loss_type="bce")
    x, y = data("mlp"), jnp.array([0, 1, 2, 0])
    out = model(x, y=y)  # no decoder_output: loss_fn decodes out["z"] again, under y
    raw = model.decode_outputs(out["z"], y=y)["decoder_output"]
    from artifex_plugins.vae.losses import bce

    np.testing.assert_allclose(
        model.loss_fn(x=x, outputs=out, y=y)["reconstruction_loss"], bce(raw, x).mean(), rtol=1e-6
    )
    other = model.decode_outputs(out["z"], y=(y + 1) % C)["decoder_output"]
    assert float(model.loss_fn(x=x, outputs=out, y=y)["reconstruction_loss"]) != pytest.approx(
        float(bce(other, x).mean()), rel=1e-6
    )


def test_constructor_defaults_and_validation():
    rngs = nnx.Rngs(0)
    enc = ConditionalEncoder(MLPEncoder([8], L, input_dim=FLAT, rngs=rngs), num_classes=C, embed_dim=4, rngs=rngs)
    dec = ConditionalDecoder(MLPDecoder([8], FLAT, L, rngs=rngs), num_classes=C, embed_dim=4, rngs=rngs)
    model = ConditionalVAE(enc, dec, L, condition_dim=C)  # rngs=None: a default nnx.Rngs(0)
    assert model.sample(2, y=1).shape == (2, *FLAT)
    assert model.condition_type == "concat" and model.kl_weight == 1.0
    with pytest.raises(ValueError, match="condition_type"):
        ConditionalVAE(enc, dec, L, condition_dim=C, condition_type="film")
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalVAE(enc, dec, L, condition_dim=10)
    with pytest.raises(ValueError, match="condition"):
        ConditionalVAE(MLPEncoder([8], L, input_dim=FLAT, rngs=rngs), dec, L, condition_dim=C)
    with pytest.raises(ValueError, match="y must be"):
        model(data("mlp"), y=jnp.zeros((4, 5)))


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
