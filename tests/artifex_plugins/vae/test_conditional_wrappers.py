"""Conditional wrappers: the spec examples, int vs one-hot labels, how the label enters (one way for every
base: a projection of the embedding added to the input), label changes change outputs, MLP/CNN/ResNet bases,
latent_shape, jit and grad."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core.testing import abstract_call
from artifex_plugins.vae.decoders import CNNDecoder, ConditionalDecoder, MLPDecoder, ResNetDecoder
from artifex_plugins.vae.encoders import CNNEncoder, ConditionalEncoder, MLPEncoder, ResNetEncoder

IMG = (8, 8, 1)
K, E = 10, 4


def _x(shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), shape)


# --- the matrix of bases -------------------------------------------------------------------------------

ENCODERS = {
    "mlp-lazy-flat": (lambda r: MLPEncoder([8], 3, rngs=r), (2, 64)),
    "mlp-lazy-image": (lambda r: MLPEncoder([8], 3, rngs=r), (2, *IMG)),
    "mlp-fixed-image": (lambda r: MLPEncoder([8], 3, input_dim=IMG, rngs=r), (2, *IMG)),
    "mlp-fixed-flat": (lambda r: MLPEncoder([8], 3, input_dim=(64,), rngs=r), (2, 64)),
    "cnn-lazy": (lambda r: CNNEncoder([4, 8], 3, rngs=r), (2, *IMG)),
    "cnn-fixed": (lambda r: CNNEncoder([4, 8], 3, input_dim=IMG, rngs=r), (2, *IMG)),
    "resnet-lazy": (lambda r: ResNetEncoder([4, 8], 3, rngs=r), (2, *IMG)),
    "resnet-fixed": (lambda r: ResNetEncoder([4, 8], 3, input_dim=IMG, rngs=r), (2, *IMG)),
}


@pytest.mark.parametrize("case", sorted(ENCODERS))
def test_conditional_encoder_around_every_base(case: str) -> None:
    build, x_shape = ENCODERS[case]
    (mean, log_var), wrapper = abstract_call(
        lambda: ConditionalEncoder(build(nnx.Rngs(0)), num_classes=K, embed_dim=E, rngs=nnx.Rngs(1)),
        x_shape,
        condition=jnp.array([1, 2]),
    )
    assert mean.shape == log_var.shape == (2, 3)
    assert wrapper.encoder.input_dim == wrapper.input_dim == x_shape[1:]  # the data shape, label excluded
    assert wrapper.input_projection.in_features == E and wrapper.input_projection.out_features == math.prod(x_shape[1:])
    assert wrapper.latent_dim == 3 and wrapper.num_classes == K and wrapper.hidden_dims == wrapper.encoder.hidden_dims
    assert wrapper.latent_shape == wrapper.encoder.latent_shape == (3,)


def test_a_wrapper_around_a_fixed_base_is_built_at_construction() -> None:
    base = CNNEncoder([4], 3, input_dim=IMG, spatial=True, rngs=nnx.Rngs(0))
    wrapper = ConditionalEncoder(base, K, E, rngs=nnx.Rngs(1))
    assert wrapper.input_dim == IMG and wrapper._lazy_key is None
    assert wrapper.input_projection.out_features == math.prod(IMG)
    assert wrapper.latent_shape == base.latent_shape == (4, 4, 3)  # read, not traced


DECODERS = {
    "mlp": (lambda r: MLPDecoder([8], IMG, 3, rngs=r), (2, 3)),
    "cnn": (lambda r: CNNDecoder([8, 4], IMG, 3, rngs=r), (2, 3)),
    "resnet": (lambda r: ResNetDecoder([8, 4], IMG, 3, rngs=r), (2, 3)),
    "cnn-spatial": (lambda r: CNNDecoder([8, 4], IMG, 3, spatial=True, rngs=r), (2, 2, 2, 3)),
}


@pytest.mark.parametrize("case", sorted(DECODERS))
def test_conditional_decoder_around_every_base(case: str) -> None:
    build, z_shape = DECODERS[case]
    out, wrapper = abstract_call(
        lambda: ConditionalDecoder(build(nnx.Rngs(0)), num_classes=K, embed_dim=E, rngs=nnx.Rngs(1)),
        z_shape,
        condition=jnp.array([1, 2]),
    )
    assert out.shape == (2, *IMG)
    assert wrapper.latent_dim == 3 and wrapper.num_classes == K and wrapper.output_dim == IMG
    assert wrapper.decoder.latent_dim == 3  # the base keeps the model's latent_dim
    assert wrapper.latent_shape == wrapper.decoder.latent_shape == z_shape[1:]


# --- numerics on small bases ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cnn_pair() -> tuple[ConditionalEncoder, ConditionalEncoder]:
    lazy = ConditionalEncoder(CNNEncoder([4, 8], 3, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    fixed = ConditionalEncoder(CNNEncoder([4, 8], 3, input_dim=IMG, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    return lazy, fixed


@pytest.mark.parametrize("which", [0, 1])
def test_every_base_gets_a_projection_of_the_embedding_added(cnn_pair, which: int) -> None:
    enc = cnn_pair[which]
    x, y = _x((2, *IMG)), jnp.array([3, 7])
    got = enc(x, condition=y)
    want = enc.encoder(x + enc.input_projection(enc.embedding(y)).reshape(x.shape))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    assert enc.encoder.input_dim == IMG  # wrapping never changes the base's input shape


def test_flat_and_image_inputs_encode_alike() -> None:
    enc = ConditionalEncoder(CNNEncoder([4], 3, input_dim=IMG, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    x, y = _x((2, *IMG)), jnp.array([0, 9])
    np.testing.assert_allclose(enc(x.reshape(2, -1), condition=y)[0], enc(x, condition=y)[0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"ConditionalEncoder: input of shape \(5,\) does not match input_dim"):
        enc(jnp.zeros((2, 5)), condition=y)


@pytest.mark.parametrize("which", [0, 1])
def test_encoder_int_and_one_hot_labels_are_identical_and_labels_matter(cnn_pair, which: int) -> None:
    enc = cnn_pair[which]
    x, y = _x((2, *IMG)), jnp.array([3, 7])
    ints = enc(x, condition=y)
    onehot = enc(x, condition=jax.nn.one_hot(y, K))
    for a, b in zip(ints, onehot, strict=True):
        np.testing.assert_array_equal(a, b)
    other = enc(x, condition=jnp.array([4, 1]))
    assert not np.allclose(other[0], ints[0])


@pytest.mark.parametrize("case", ["mlp", "cnn"])
def test_decoder_int_and_one_hot_identical_and_label_changes_output(case: str) -> None:
    build, z_shape = DECODERS[case]
    dec = ConditionalDecoder(build(nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    z, y = jax.random.normal(jax.random.key(2), z_shape), jnp.array([3, 7])
    ints = dec(z, condition=y)
    np.testing.assert_array_equal(dec(z, condition=jax.nn.one_hot(y, K)), ints)
    changed = dec(z, condition=jnp.array([4, 7]))
    assert not np.allclose(changed[0], ints[0])  # new label, new output for the same z
    np.testing.assert_allclose(changed[1], ints[1], rtol=1e-6)  # the unchanged example is unchanged
    # The label shifts z by a projection of its embedding.
    want = dec.decoder(z + dec.latent_projection(dec.embedding(y)))
    np.testing.assert_allclose(ints, want, rtol=1e-6)


def test_spatial_decoder_gets_the_same_shift_at_every_position() -> None:
    build, z_shape = DECODERS["cnn-spatial"]
    dec = ConditionalDecoder(build(nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    z, y = jax.random.normal(jax.random.key(2), z_shape), jnp.array([3, 7])
    shift = dec.latent_projection(dec.embedding(y))[:, None, None, :]
    np.testing.assert_allclose(dec(z, condition=y), dec.decoder(z + shift), rtol=1e-6)


# --- label handling and errors -------------------------------------------------------------------------


def test_condition_none_is_a_value_error() -> None:
    enc = ConditionalEncoder(MLPEncoder([8], 3, input_dim=(64,), rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    dec = ConditionalDecoder(MLPDecoder([8], (64,), 3, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    with pytest.raises(ValueError, match="ConditionalEncoder: condition is required"):
        enc(jnp.zeros((2, 64)))
    with pytest.raises(ValueError, match="ConditionalDecoder: condition is required"):
        dec(jnp.zeros((2, 3)))


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (jnp.array([0, 10]), r"class label 10 at index 1 is outside \[0, 10\)"),
        (jnp.array([-1, 2]), r"class label -1 at index 0 is outside \[0, 10\)"),
        (jnp.zeros((2, 9)), "one-hot"),
        (jnp.array([0.0, 1.0]), "floating labels are read as one-hot"),
        (jnp.array([0, 1, 2]), "got 3 labels for a batch of 2"),
    ],
)
def test_bad_labels_are_value_errors(labels: jax.Array, match: str) -> None:
    dec = ConditionalDecoder(MLPDecoder([8], (64,), 3, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    with pytest.raises(ValueError, match=match):
        dec(jnp.zeros((2, 3)), condition=labels)


def test_a_single_label_is_broadcast_to_the_batch() -> None:
    dec = ConditionalDecoder(MLPDecoder([8], (64,), 3, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    z = jax.random.normal(jax.random.key(0), (2, 3))
    want = dec(z, condition=jnp.array([5, 5]))
    np.testing.assert_array_equal(dec(z, condition=jnp.array(5)), want)
    np.testing.assert_array_equal(dec(z, condition=jnp.array([5])), want)
    np.testing.assert_array_equal(dec(z, condition=jax.nn.one_hot(5, K)), want)


def test_invalid_wrapper_arguments() -> None:
    base = MLPDecoder([8], (64,), 3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        ConditionalDecoder(base, 0, E, rngs=nnx.Rngs(1))
    with pytest.raises(ValueError, match="embed_dim must be a positive integer"):
        ConditionalEncoder(MLPEncoder([8], 3, rngs=nnx.Rngs(0)), K, 0, rngs=nnx.Rngs(1))


# --- jit and grad ----------------------------------------------------------------------------------------


def test_wrappers_train_under_jit_with_gradients_to_the_embeddings() -> None:
    enc = ConditionalEncoder(MLPEncoder([8], 3, rngs=nnx.Rngs(0)), K, E, rngs=nnx.Rngs(1))
    dec = ConditionalDecoder(MLPDecoder([8], IMG, 3, rngs=nnx.Rngs(2)), K, E, rngs=nnx.Rngs(3))
    x, y = _x((2, *IMG)), jnp.array([1, 2])
    enc(x, condition=y)  # the lazy base is built at the first eager call

    def loss(pair):
        e, d = pair
        mean, _ = e(x, condition=y)
        return jnp.sum((d(mean, condition=y) - x) ** 2)

    value, (g_enc, g_dec) = nnx.jit(nnx.value_and_grad(loss))((enc, dec))
    np.testing.assert_allclose(value, loss((enc, dec)), rtol=1e-5)
    for g, table in ((g_enc, "embedding"), (g_dec, "embedding")):
        rows = np.abs(np.asarray(getattr(g, table).embed.embedding[...])).sum(axis=1)
        assert rows[1] > 0 and rows[2] > 0 and rows[0] == 0  # only the used classes get gradients
