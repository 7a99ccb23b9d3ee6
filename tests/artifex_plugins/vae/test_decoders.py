"""Decoders: exact output shapes, hidden_dims used as given, sub-pixel upsampling, residual structure,
the spatial switch, jit and grad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import artifex_core.factory as factory
from artifex_core.config import ModelConfig
from artifex_core.testing import abstract_call
from artifex_plugins.vae.blocks import ResidualBlock, ResidualUpBlock, SubPixelUpsample
from artifex_plugins.vae.decoders import CNNDecoder, MLPDecoder, ResNetDecoder, create_decoder_unified
from artifex_plugins.vae.encoders import CNNEncoder, ResNetEncoder
from artifex_plugins.vae.layers import crop_to, depth_to_space, plan_spatial_sizes


def _params(module: nnx.Module) -> list:
    return jax.tree.leaves(nnx.state(module, nnx.Param))


def _modules(module: nnx.Module, kind: type) -> list[nnx.Module]:
    return [m for _, m in nnx.iter_graph(module) if isinstance(m, kind)]


def _normal(shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), shape)


# --- MLP -----------------------------------------------------------------------------------------------


def test_mlp_decoder_reshapes_to_any_output_dim() -> None:
    out, dec = abstract_call(lambda: MLPDecoder([8], (28, 28, 1), 3, rngs=nnx.Rngs(0)), (5, 3))
    assert out.shape == (5, 28, 28, 1) and dec.output_layer.out_features == 784


def test_mlp_decoder_output_is_linear_in_the_last_layer() -> None:
    dec = MLPDecoder([8], (4, 4, 1), 3, activation="tanh", rngs=nnx.Rngs(0))
    z = _normal((3, 3))
    want = dec.output_layer(jnp.tanh(dec.layers[0](z))).reshape(3, 4, 4, 1)
    np.testing.assert_allclose(dec(z), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rngs": None}, "rngs is required"),
        ({"latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"output_dim": ()}, "output_dim must be a non-empty tuple"),
        ({"hidden_dims": [0]}, "hidden_dims must be positive integers"),
    ],
)
def test_decoder_argument_validation(kwargs: dict, match: str) -> None:
    args = {"hidden_dims": [8], "output_dim": (4,), "latent_dim": 3, "rngs": nnx.Rngs(0)} | kwargs
    with pytest.raises(ValueError, match=match):
        MLPDecoder(**args)


@pytest.mark.parametrize("cls", [MLPDecoder, CNNDecoder, ResNetDecoder])
def test_wrong_latent_shape_is_a_value_error(cls: type) -> None:
    with pytest.raises(ValueError, match=r"expected z of shape \(B, 3\)"):
        abstract_call(lambda: cls([4], (4, 4, 1), 3, rngs=nnx.Rngs(0)), (2, 4))


# --- CNN / ResNet ----------------------------------------------------------------------------------------

CONV_DECODERS = [CNNDecoder, ResNetDecoder]
SIZES = [(28, 28, 1), (32, 32, 3), (64, 64, 1), (15, 9, 2), (1, 1, 1)]


@pytest.mark.parametrize("cls", CONV_DECODERS)
@pytest.mark.parametrize("shape", SIZES)
def test_conv_decoder_returns_exactly_output_dim(cls: type, shape: tuple) -> None:
    out, dec = abstract_call(lambda: cls([8, 4, 4], shape, 3, rngs=nnx.Rngs(0)), (2, 3))
    assert out.shape == (2, *shape)
    # The grid is the encoder's: ceil-halved once per hidden dim, then walked back up.
    assert dec.feature_grid == plan_spatial_sizes(shape[:2], 3)[-1]
    ups = _modules(dec, SubPixelUpsample) if cls is CNNDecoder else [b.up for b in _modules(dec, ResidualUpBlock)]
    assert [u.target_hw for u in ups] == list(reversed(plan_spatial_sizes(shape[:2], 3)[:-1]))


@pytest.mark.parametrize("cls", CONV_DECODERS)
def test_conv_decoder_uses_hidden_dims_as_given(cls: type) -> None:
    _, dec = abstract_call(lambda: cls([4, 8, 6], (16, 16, 2), 3, rngs=nnx.Rngs(0)), (1, 3))
    ups = _modules(dec, SubPixelUpsample) if cls is CNNDecoder else [b.up for b in _modules(dec, ResidualUpBlock)]
    assert [u.conv.out_features for u in ups] == [16, 32, 24]  # 4 * (4, 8, 6): decoding order kept
    assert dec.input_layer.out_features == 2 * 2 * 4  # projection to hidden_dims[0] channels
    assert dec.output_conv.in_features == 6 and dec.output_conv.out_features == 2


@pytest.mark.parametrize("cls", CONV_DECODERS)
def test_upsampling_is_sub_pixel_not_transposed_conv(cls: type) -> None:
    _, dec = abstract_call(lambda: cls([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0)), (1, 3))
    assert not _modules(dec, nnx.ConvTranspose)
    assert _modules(dec, SubPixelUpsample)


def test_depth_to_space_matches_the_pixel_shuffle_definition() -> None:
    x = np.arange(2 * 3 * 2 * 12, dtype=np.float32).reshape(2, 3, 2, 12)
    got = np.asarray(depth_to_space(jnp.asarray(x), 2))
    assert got.shape == (2, 6, 4, 3)
    for b, i, j, dy, dx, c in np.ndindex(2, 3, 2, 2, 2, 3):
        assert got[b, 2 * i + dy, 2 * j + dx, c] == x[b, i, j, (dy * 2 + dx) * 3 + c]
    with pytest.raises(ValueError, match="not divisible"):
        depth_to_space(jnp.zeros((1, 2, 2, 6)), 2)


def test_plan_and_crop() -> None:
    assert plan_spatial_sizes((28, 28), 4) == [(28, 28), (14, 14), (7, 7), (4, 4), (2, 2)]
    assert plan_spatial_sizes((15, 9), 2) == [(15, 9), (8, 5), (4, 3)]
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(crop_to(x, (3, 2))[0, :, :, 0], [[0, 1], [4, 5], [8, 9]])
    with pytest.raises(ValueError, match="cannot crop"):
        crop_to(x, (5, 4))


def test_sub_pixel_icnr_init_starts_as_nearest_neighbour_upsampling() -> None:
    up = SubPixelUpsample(8, 4, (8, 8), rngs=nnx.Rngs(0))
    x = _normal((2, 4, 4, 8))
    out = np.asarray(up(x))
    assert out.shape == (2, 8, 8, 4)
    for dy, dx in [(0, 1), (1, 0), (1, 1)]:
        np.testing.assert_array_equal(out[:, dy::2, dx::2], out[:, 0::2, 0::2])
    # ... and learns sub-pixel detail: with different sub-pixel kernels the four positions differ.
    up.conv.kernel[...] = _normal(up.conv.kernel.shape, seed=1)
    out = np.asarray(up(x))
    assert not np.allclose(out[:, 1::2, 1::2], out[:, 0::2, 0::2])


def test_conv_decoder_output_is_unconstrained_and_depends_on_z() -> None:
    dec = CNNDecoder([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0))
    out = dec(_normal((4, 3)) * 3)
    assert float(out.min()) < 0.0 < float(out.max())  # no sigmoid / relu on the output
    assert not np.allclose(out[0], out[1])


def test_resnet_decoder_is_residual_not_the_cnn_renamed() -> None:
    _, res = abstract_call(lambda: ResNetDecoder([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0)), (1, 3))
    _, cnn = abstract_call(lambda: CNNDecoder([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0)), (1, 3))
    ups = _modules(res, ResidualUpBlock)
    assert len(ups) == 2 and len(_modules(res, ResidualBlock)) == 2
    assert all(u.skip.conv.kernel_size == (1, 1) for u in ups)
    assert not _modules(cnn, ResidualUpBlock)
    assert len(_params(res)) > len(_params(cnn))


def test_residual_up_block_adds_the_skip_to_the_branch() -> None:
    block = ResidualUpBlock(8, 4, (8, 8), activation="tanh", rngs=nnx.Rngs(0))
    x = _normal((2, 4, 4, 8))
    full = block(x)
    block.conv.kernel[...] = jnp.zeros_like(block.conv.kernel[...])
    block.conv.bias[...] = jnp.zeros_like(block.conv.bias[...])
    np.testing.assert_allclose(block(x), jnp.tanh(block.skip(x)), rtol=1e-6)
    assert not np.allclose(full, jnp.tanh(block.skip(x)))


# --- spatial switch ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("enc_cls", "dec_cls"), [(CNNEncoder, CNNDecoder), (ResNetEncoder, ResNetDecoder)])
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (15, 9, 2)])
def test_spatial_round_trip_of_shapes(enc_cls: type, dec_cls: type, shape: tuple) -> None:
    (mean, _), enc = abstract_call(lambda: enc_cls([4, 8], 5, input_dim=shape, spatial=True, rngs=nnx.Rngs(0)), (2, *shape))
    out, dec = abstract_call(lambda: dec_cls([8, 4], shape, 5, spatial=True, rngs=nnx.Rngs(0)), mean.shape)
    assert dec.feature_grid == enc.feature_grid and mean.shape == (2, *enc.feature_grid, 5)
    assert out.shape == (2, *shape)
    assert isinstance(dec.input_layer, nnx.Conv) and not _modules(dec, nnx.Linear)  # no dense projection


def test_spatial_decoder_rejects_flat_or_misshapen_latents() -> None:
    def build():
        return CNNDecoder([4], (8, 8, 1), 3, spatial=True, rngs=nnx.Rngs(0))

    with pytest.raises(ValueError, match=r"expected spatial z of shape \(B, 4, 4, 3\)"):
        abstract_call(build, (2, 3))
    with pytest.raises(ValueError, match="expected spatial z"):
        abstract_call(build, (2, 2, 2, 3))


def test_spatial_decoder_decodes_each_position() -> None:
    dec = CNNDecoder([4], (16, 16, 1), 3, spatial=True, rngs=nnx.Rngs(0))
    z = _normal((1, 8, 8, 3))
    other = z.at[:, 0, 0].set(5.0)
    diff = np.abs(np.asarray(dec(z) - dec(other)))[0, :, :, 0]
    assert diff[:2, :2].max() > 0 and diff[8:, :].max() == 0 and diff[:, 8:].max() == 0  # local effect


# --- jit, grad, precision, factory ---------------------------------------------------------------------

ALL = [
    lambda: MLPDecoder([8], (8, 8, 1), 3, rngs=nnx.Rngs(0)),
    lambda: CNNDecoder([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0)),
    lambda: ResNetDecoder([8, 4], (8, 8, 1), 3, blocks_per_stage=1, rngs=nnx.Rngs(0)),
]


@pytest.mark.parametrize("build", ALL)
def test_jit_matches_eager_and_gradients_flow(build) -> None:
    dec = build()
    z = _normal((2, 3))
    eager = jnp.sum(dec(z) ** 2)
    value, grads = nnx.jit(nnx.value_and_grad(lambda m: jnp.sum(m(z) ** 2)))(dec)
    np.testing.assert_allclose(value, eager, rtol=1e-5)
    leaves = jax.tree.leaves(grads)
    assert leaves and all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    assert sum(float(jnp.abs(g).sum()) for g in leaves) > 0
    assert not jax.tree.leaves(nnx.state(dec, nnx.BatchStat))


@pytest.mark.parametrize("cls", [MLPDecoder, CNNDecoder, ResNetDecoder])
def test_precision_reaches_every_layer(cls: type) -> None:
    hi = jax.lax.Precision.HIGHEST
    _, dec = abstract_call(lambda: cls([4], (4, 4, 1), 2, precision=hi, rngs=nnx.Rngs(0)), (1, 2))
    layers = _modules(dec, nnx.Linear) + _modules(dec, nnx.Conv)
    assert layers and all(layer.precision == hi for layer in layers)


def test_create_decoder_unified_is_reexported_and_keeps_the_config_order() -> None:
    assert create_decoder_unified is factory.create_decoder_unified
    cfg = ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(4, 8), decoder_hidden_dims=(8, 4))
    (out, dec) = abstract_call(lambda: create_decoder_unified(config=cfg, decoder_type="cnn", rngs=nnx.Rngs(0)), (2, 3))
    assert isinstance(dec, CNNDecoder) and dec.hidden_dims == [8, 4] and out.shape == (2, 8, 8, 1)
    spatial = ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(4, 8), decoder_kwargs={"spatial": True})
    (out, dec) = abstract_call(
        lambda: create_decoder_unified(config=spatial, decoder_type="resnet", rngs=nnx.Rngs(0)), (2, 2, 2, 3)
    )
    assert isinstance(dec, ResNetDecoder) and dec.hidden_dims == [8, 4] and out.shape == (2, 8, 8, 1)


def _input_support(fn: object, in_shape: tuple[int, ...]) -> np.ndarray:
    """``support[o, i]``: whether output pixel ``o`` (flattened H*W, channel 0) depends on input pixel ``i``."""
    x = _normal(in_shape, seed=3)
    jac = jax.jacobian(lambda a: fn(a)[0, :, :, 0].reshape(-1))(x)  # (out_pixels, 1, h, w, c)
    return np.asarray(jnp.abs(jac).sum(axis=(1, 4)).reshape(jac.shape[0], -1) > 0)


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_sub_pixel_upsampling_sees_exactly_the_inputs_of_a_stride_2_transposed_conv(kernel_size: int) -> None:
    # a k x k stride-2 transposed convolution is a sub-pixel convolution with a ceil(k/2) kernel
    up = SubPixelUpsample(2, 2, (12, 12), kernel_size=kernel_size, rngs=nnx.Rngs(0))
    up.conv.kernel[...] = _normal(up.conv.kernel.shape, seed=1)  # ICNR's tied init hides nothing here
    assert up.conv.kernel.shape[:2] == ((kernel_size + 1) // 2,) * 2
    ct = nnx.ConvTranspose(2, 2, (kernel_size, kernel_size), strides=(2, 2), padding="SAME", rngs=nnx.Rngs(1))
    ours, theirs = _input_support(up, (1, 6, 6, 2)), _input_support(ct, (1, 6, 6, 2))
    assert theirs.any(axis=1).all()
    # every output pixel away from the border reads a ceil(k/2) x ceil(k/2) window: the transposed conv's
    # widest window (a full k x k sub-pixel kernel would read k x k, with 4x the transposed conv's FLOPs)
    interior = ours.reshape(12, 12, -1)[2:-2, 2:-2].sum(axis=-1)
    assert (interior == ((kernel_size + 1) // 2) ** 2).all()
    assert theirs.sum(axis=1).max() == ((kernel_size + 1) // 2) ** 2


def test_a_conv_decoder_subclass_without_its_stage_factory_fails_at_class_creation() -> None:
    from artifex_plugins.vae.decoders import _ConvDecoder

    with pytest.raises(TypeError, match="NoBlocks must define stage"):
        type("NoBlocks", (_ConvDecoder,), {})


@pytest.mark.parametrize(("cls", "default"), [(CNNDecoder, 1), (ResNetDecoder, 2)])
def test_decoder_stage_factories_and_blocks_per_stage(cls: type, default: int) -> None:
    build = lambda **kw: cls([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0), **kw)  # noqa: E731
    assert build().blocks_per_stage == default and len(build().blocks) == 2 * default
    out, dec = abstract_call(lambda: build(blocks_per_stage=2), (2, 3))
    assert out.shape == (2, 8, 8, 1) and len(dec.blocks) == 4
    up, keep = dec.blocks[:2]
    if cls is CNNDecoder:
        assert isinstance(up, SubPixelUpsample) and keep.conv.strides == 1 and keep.conv.out_features == 8
    else:
        assert isinstance(up, ResidualUpBlock) and type(keep) is ResidualBlock
    with pytest.raises(ValueError, match=f"{cls.__name__}: blocks_per_stage must be a positive integer"):
        build(blocks_per_stage=0)


@pytest.mark.parametrize(("build", "shape"), [
    (lambda: MLPDecoder([8], (8, 8, 1), 3, rngs=nnx.Rngs(0)), (3,)),
    (lambda: CNNDecoder([8, 4], (8, 8, 1), 3, rngs=nnx.Rngs(0)), (3,)),
    (lambda: CNNDecoder([8, 4], (9, 5, 1), 3, spatial=True, rngs=nnx.Rngs(0)), (3, 2, 3)),
    (lambda: ResNetDecoder([8], (8, 8, 1), 3, spatial=True, blocks_per_stage=1, rngs=nnx.Rngs(0)), (4, 4, 3)),
])
def test_decoders_state_the_latent_shape_they_take(build, shape: tuple) -> None:
    dec = build()
    assert dec.latent_shape == shape
    out, _ = abstract_call(lambda: dec, (2, *shape))
    assert out.shape == (2, *dec.output_dim)
