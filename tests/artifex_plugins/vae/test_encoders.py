"""Encoders: shapes, explicit input_dim and latent_shape (lazy only for input_dim=None), pooling / flatten /
spatial heads, stage factories, residual structure, jit and grad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import artifex_core.factory as factory
from artifex_core.config import ModelConfig
from artifex_core.testing import abstract_call
from artifex_plugins.vae.blocks import ConvBlock, ResidualBlock, ResidualDownBlock
from artifex_plugins.vae.encoders import CNNEncoder, MLPEncoder, ResNetEncoder, create_encoder_unified


def _params(module: nnx.Module) -> list[jax.Array]:
    return jax.tree.leaves(nnx.state(module, nnx.Param))


def _modules(module: nnx.Module, kind: type) -> list[nnx.Module]:
    return [m for _, m in nnx.iter_graph(module) if isinstance(m, kind)]


def _images(n: int, shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), (n, *shape))


# --- MLP -----------------------------------------------------------------------------------------------


def test_mlp_flattens_any_input_shape_and_infers_input_dim() -> None:
    enc = MLPEncoder([8], 3, rngs=nnx.Rngs(0))
    assert enc.input_dim is None and not _params(enc)  # nothing built yet
    mean, log_var = enc(_images(2, (8, 8, 1)))
    assert mean.shape == log_var.shape == (2, 3)
    assert enc.input_dim == (8, 8, 1)
    assert enc.layers[0].in_features == 64
    # The same module takes the flattened form of the same data and gives the same result.
    x = _images(2, (8, 8, 1), seed=1)
    np.testing.assert_allclose(enc(x)[0], enc(x.reshape(2, 64))[0], rtol=1e-6)


def test_fixed_input_dim_builds_everything_in_init() -> None:
    enc = MLPEncoder([8], 3, input_dim=(64,), rngs=nnx.Rngs(0))
    before = [np.asarray(p) for p in _params(enc)]
    assert len(before) == 6  # one hidden layer and two heads, kernels and biases
    enc(jnp.ones((2, 64)))
    after = _params(enc)
    assert len(after) == len(before)
    for a, b in zip(after, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_lazy_init_is_deterministic_given_rngs_and_matches_fixed_shapes() -> None:
    x = _images(2, (64,))
    a = MLPEncoder([8], 3, rngs=nnx.Rngs(7))
    b = MLPEncoder([8], 3, rngs=nnx.Rngs(7))
    b_other = MLPEncoder([8], 3, rngs=nnx.Rngs(8))
    np.testing.assert_array_equal(a(x)[0], b(x)[0])
    assert not np.allclose(a(x)[0], b_other(x)[0])
    fixed = MLPEncoder([8], 3, input_dim=(64,), rngs=nnx.Rngs(7))
    lazy_shapes = sorted(p.shape for p in _params(a))
    assert lazy_shapes == sorted(p.shape for p in _params(fixed))
    # No key is left in the state once built.
    assert not jax.tree.leaves(nnx.state(a, nnx.Not(nnx.Param)))


def test_lazy_init_consumes_rngs_at_construction_not_at_call() -> None:
    """The next module built from the same Rngs is the same whether or not the lazy one was called."""
    r1, r2 = nnx.Rngs(3), nnx.Rngs(3)
    lazy1 = MLPEncoder([8], 3, rngs=r1)
    lazy1(jnp.ones((2, 64)))
    MLPEncoder([8], 3, rngs=r2)
    n1 = MLPEncoder([8], 3, input_dim=(64,), rngs=r1)
    n2 = MLPEncoder([8], 3, input_dim=(64,), rngs=r2)
    for p, q in zip(_params(n1), _params(n2), strict=True):
        np.testing.assert_array_equal(p, q)


def test_mlp_input_size_mismatch_is_a_value_error() -> None:
    enc = MLPEncoder([8], 3, input_dim=(64,), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="does not match input_dim"):
        enc(jnp.ones((2, 7)))
    with pytest.raises(ValueError, match="expected a batch"):
        enc(jnp.ones((64,)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden_dims": [4], "latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"hidden_dims": [4], "latent_dim": 2.5}, "latent_dim must be a positive integer"),
        ({"hidden_dims": [4, -1], "latent_dim": 2}, "hidden_dims must be positive integers"),
        ({"hidden_dims": "64", "latent_dim": 2}, "hidden_dims must be a list"),
        ({"hidden_dims": [4], "latent_dim": 2, "input_dim": (0,)}, "input_dim must be positive"),
    ],
)
def test_mlp_argument_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MLPEncoder(**kwargs, rngs=nnx.Rngs(0))


# --- CNN / ResNet ----------------------------------------------------------------------------------------

CONV_ENCODERS = [CNNEncoder, ResNetEncoder]


@pytest.mark.parametrize("cls", CONV_ENCODERS)
@pytest.mark.parametrize(
    ("shape", "grid"), [((28, 28, 1), (4, 4)), ((32, 32, 3), (4, 4)), ((64, 64, 1), (8, 8)), ((15, 9, 2), (2, 2))]
)
def test_conv_encoder_shapes_and_stride2_grid(cls: type, shape: tuple, grid: tuple) -> None:
    (mean, log_var), enc = abstract_call(lambda: cls([4, 4, 8], 3, input_dim=shape, rngs=nnx.Rngs(0)), (2, *shape))
    assert mean.shape == log_var.shape == (2, 3)
    assert enc.feature_grid == grid  # ceil-halved once per hidden dim
    # Global pooling: the dense heads see one vector of hidden_dims[-1] features.
    assert enc.mean_head.in_features == enc.log_var_head.in_features == 8


@pytest.mark.parametrize("cls", CONV_ENCODERS)
def test_conv_encoder_flatten_option(cls: type) -> None:
    (mean, _), enc = abstract_call(
        lambda: cls([4, 6], 3, input_dim=(12, 10, 1), flatten=True, rngs=nnx.Rngs(0)), (2, 12, 10, 1)
    )
    assert enc.feature_grid == (3, 3)
    assert enc.mean_head.in_features == 3 * 3 * 6
    assert mean.shape == (2, 3)


@pytest.mark.parametrize("flatten", [False, True])
def test_heads_see_the_average_pooled_or_flattened_feature_map(flatten: bool) -> None:
    enc = CNNEncoder([4, 8], 3, input_dim=(8, 8, 1), flatten=flatten, rngs=nnx.Rngs(0))
    x = _images(2, (8, 8, 1))
    h = x
    for block in enc.blocks:
        h = block(h)
    assert h.shape == (2, 2, 2, 8)
    feats = h.reshape(2, -1) if flatten else h.mean(axis=(1, 2))
    mean, log_var = enc(x)
    np.testing.assert_allclose(mean, enc.mean_head(feats), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_var, enc.log_var_head(feats), rtol=1e-5, atol=1e-6)


def test_spatial_and_flatten_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        CNNEncoder([4], 2, input_dim=(8, 8, 1), spatial=True, flatten=True, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("cls", CONV_ENCODERS)
@pytest.mark.parametrize(("shape", "grid"), [((28, 28, 1), (7, 7)), ((32, 32, 3), (8, 8)), ((9, 5, 1), (3, 2))])
def test_spatial_switch_returns_conv_head_grids(cls: type, shape: tuple, grid: tuple) -> None:
    (mean, log_var), enc = abstract_call(
        lambda: cls([4, 8], 5, input_dim=shape, spatial=True, rngs=nnx.Rngs(0)), (2, *shape)
    )
    assert mean.shape == log_var.shape == (2, *grid, 5)
    assert enc.feature_grid == grid
    assert isinstance(enc.mean_head, nnx.Conv) and enc.mean_head.kernel_size == (1, 1)
    assert not _modules(enc, nnx.Linear)  # no dense head


def test_spatial_heads_compute_per_position_values() -> None:
    enc = CNNEncoder([4, 8], 3, input_dim=(8, 8, 1), spatial=True, rngs=nnx.Rngs(0))
    x = _images(2, (8, 8, 1))
    h = x
    for block in enc.blocks:
        h = block(h)
    mean, log_var = enc(x)
    np.testing.assert_allclose(mean, enc.mean_head(h), rtol=1e-5, atol=1e-6)
    assert mean.shape == (2, 2, 2, 3) and not np.allclose(mean[:, 0, 0], mean[:, 1, 1])


@pytest.mark.parametrize("cls", CONV_ENCODERS)
def test_conv_encoder_lazy_input_dim(cls: type) -> None:
    (mean, _), lazy = abstract_call(lambda: cls([4, 8], 3, rngs=nnx.Rngs(0)), (2, 9, 7, 3))
    assert mean.shape == (2, 3) and lazy.input_dim == (9, 7, 3) and lazy.feature_grid == (3, 2)


def test_conv_encoder_lazy_init_is_deterministic() -> None:
    enc = CNNEncoder([4, 8], 3, rngs=nnx.Rngs(0))
    assert enc.input_dim is None and enc.feature_grid is None
    out = enc(_images(2, (8, 8, 1)))[0]
    assert out.shape == (2, 3) and enc.input_dim == (8, 8, 1) and enc.feature_grid == (2, 2)
    again = CNNEncoder([4, 8], 3, rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(again(_images(2, (8, 8, 1)))[0], out)


def test_cnn_accepts_flat_and_channel_less_inputs() -> None:
    enc = CNNEncoder([4, 8], 3, input_dim=(8, 8, 1), rngs=nnx.Rngs(0))
    x = _images(2, (8, 8, 1))
    want = enc(x)[0]
    np.testing.assert_allclose(enc(x.reshape(2, 64))[0], want, rtol=1e-6)
    np.testing.assert_allclose(enc(x[..., 0])[0], want, rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected input of shape \(B, 8, 8, 1\)"):
        enc(jnp.ones((2, 5, 5, 1)))
    with pytest.raises(ValueError, match="must be \\(H, W, C\\)"):
        CNNEncoder([4], 2, input_dim=(784,), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="at least one entry"):
        CNNEncoder([], 2, input_dim=(6, 6, 1), rngs=nnx.Rngs(0))


def test_cnn_uses_stride2_convolutions() -> None:
    _, enc = abstract_call(lambda: CNNEncoder([4, 8, 16], 2, input_dim=(16, 16, 1), rngs=nnx.Rngs(0)), (1, 16, 16, 1))
    convs = [b.conv for b in enc.blocks]
    assert all(isinstance(b, ConvBlock) for b in enc.blocks)
    assert [c.strides for c in convs] == [2, 2, 2]
    assert [c.out_features for c in convs] == [4, 8, 16]


def test_resnet_is_residual_not_the_cnn_renamed() -> None:
    _, res = abstract_call(lambda: ResNetEncoder([4, 8], 3, input_dim=(8, 8, 1), rngs=nnx.Rngs(0)), (1, 8, 8, 1))
    _, cnn = abstract_call(lambda: CNNEncoder([4, 8], 3, input_dim=(8, 8, 1), rngs=nnx.Rngs(0)), (1, 8, 8, 1))
    down = _modules(res, ResidualDownBlock)
    ident = _modules(res, ResidualBlock)
    assert len(down) == 2 and len(ident) == 2  # blocks_per_stage=2: one projecting, one identity
    assert [d.skip.kernel_size for d in down] == [(1, 1), (1, 1)]
    assert [d.skip.strides for d in down] == [2, 2]
    assert not _modules(cnn, ResidualDownBlock)
    assert len(_params(res)) > len(_params(cnn))


def test_residual_blocks_add_the_skip_to_the_branch() -> None:
    """With the branch's last conv zeroed, a block outputs act(skip(x)): the skip path is really added."""
    x = _images(1, (8, 8, 4))
    ident = ResidualBlock(4, activation="tanh", rngs=nnx.Rngs(0))
    down = ResidualDownBlock(4, 8, activation="tanh", rngs=nnx.Rngs(0))
    full_ident, full_down = ident(x), down(x)
    for block in (ident, down):
        block.conv2.kernel[...] = jnp.zeros_like(block.conv2.kernel[...])
        block.conv2.bias[...] = jnp.zeros_like(block.conv2.bias[...])
    np.testing.assert_allclose(ident(x), jnp.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(down(x), jnp.tanh(down.skip(x)), rtol=1e-6)
    assert not np.allclose(full_ident, jnp.tanh(x)) and not np.allclose(full_down, jnp.tanh(down.skip(x)))


def test_resnet_blocks_per_stage_validation() -> None:
    with pytest.raises(ValueError, match="blocks_per_stage"):
        ResNetEncoder([4], 2, input_dim=(8, 8, 1), blocks_per_stage=0, rngs=nnx.Rngs(0))


# --- no batch statistics, jit, grad, precision ---------------------------------------------------------

ALL = [
    lambda: MLPEncoder([8], 3, input_dim=(8, 8, 1), rngs=nnx.Rngs(0)),
    lambda: CNNEncoder([4, 8], 3, input_dim=(8, 8, 1), rngs=nnx.Rngs(0)),
    lambda: ResNetEncoder([4, 8], 3, input_dim=(8, 8, 1), blocks_per_stage=1, rngs=nnx.Rngs(0)),
]


@pytest.mark.parametrize("build", ALL)
def test_single_example_encodes_depend_on_the_example(build) -> None:
    enc = build()
    assert not jax.tree.leaves(nnx.state(enc, nnx.BatchStat))
    a, b = _images(1, (8, 8, 1), seed=1), _images(1, (8, 8, 1), seed=2)
    assert not np.allclose(enc(a)[0], enc(b)[0])
    # Each example is encoded on its own: in a batch it encodes as it does alone.
    np.testing.assert_allclose(enc(jnp.concatenate([a, b]))[0][:1], enc(a)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build", ALL)
def test_jit_matches_eager_and_gradients_flow(build) -> None:
    enc = build()
    x = _images(2, (8, 8, 1))

    def loss(m):
        mean, log_var = m(x)
        return jnp.sum(mean**2) + jnp.sum(jnp.exp(log_var))

    eager = loss(enc)
    value, grads = nnx.jit(nnx.value_and_grad(loss))(enc)
    np.testing.assert_allclose(value, eager, rtol=1e-5)
    leaves = jax.tree.leaves(grads)
    assert leaves and all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
    assert sum(float(jnp.abs(g).sum()) for g in leaves) > 0


def test_lazy_module_can_be_built_under_jit() -> None:
    enc = MLPEncoder([8], 3, rngs=nnx.Rngs(0))
    out = nnx.jit(lambda m, x: m(x)[0])(enc, _images(2, (8, 8, 1)))
    assert out.shape == (2, 3) and enc.input_dim == (8, 8, 1)
    np.testing.assert_allclose(enc(_images(2, (8, 8, 1)))[0], out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [MLPEncoder, CNNEncoder, ResNetEncoder])
def test_precision_reaches_every_layer(cls: type) -> None:
    hi = jax.lax.Precision.HIGHEST
    _, enc = abstract_call(lambda: cls([4], 2, input_dim=(4, 4, 1), precision=hi, rngs=nnx.Rngs(0)), (1, 4, 4, 1))
    layers = _modules(enc, nnx.Linear) + _modules(enc, nnx.Conv)
    assert layers and all(layer.precision == hi for layer in layers)


# --- factory re-export ---------------------------------------------------------------------------------


def test_create_encoder_unified_is_reexported_and_builds_ours() -> None:
    assert create_encoder_unified is factory.create_encoder_unified
    cfg = ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(4, 8))
    cnn = create_encoder_unified(config=cfg, encoder_type="cnn", rngs=nnx.Rngs(0))
    assert isinstance(cnn, CNNEncoder) and cnn.hidden_dims == [4, 8] and cnn.input_dim == (8, 8, 1)
    dense = create_encoder_unified(config=ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(8,)),
                                   encoder_type="dense", rngs=nnx.Rngs(0))
    assert isinstance(dense, MLPEncoder) and dense.input_dim == (8, 8, 1)
    spatial_cfg = ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(4, 8), encoder_kwargs={"spatial": True})
    (mean, _), res = abstract_call(
        lambda: create_encoder_unified(config=spatial_cfg, encoder_type="resnet", rngs=nnx.Rngs(0)), (1, 8, 8, 1)
    )
    assert isinstance(res, ResNetEncoder) and mean.shape == (1, 2, 2, 3)


def test_encoder_bases_check_their_hooks_at_class_creation() -> None:
    from artifex_plugins.vae.encoders import _ConvEncoder, _Encoder

    with pytest.raises(TypeError, match="NoStage must define stage"):
        type("NoStage", (_ConvEncoder,), {})
    with pytest.raises(TypeError, match="NoBuild must define _build"):
        type("NoBuild", (_Encoder,), {})


def test_a_built_encoder_cannot_be_built_again() -> None:
    from artifex_plugins.vae.lazy import build_at_first_call

    enc = MLPEncoder([8], 3, input_dim=(4,), rngs=nnx.Rngs(0))
    with pytest.raises(RuntimeError, match=r"MLPEncoder: already built \(input_dim \(4,\)\)"):
        build_at_first_call(enc, (4,))


# --- explicit shapes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "spatial"), [("mlp", False), ("cnn", False), ("resnet", False), ("cnn", True), ("resnet", True)]
)
def test_the_factory_builds_every_layer_at_construction_and_states_latent_shape(name: str, spatial: bool) -> None:
    kwargs = {"spatial": True} if spatial else {}
    cfg = ModelConfig(input_dim=(8, 8, 1), latent_dim=3, hidden_dims=(4, 8), encoder_kwargs=kwargs)
    box: dict = {}

    def build():
        box["enc"] = create_encoder_unified(config=cfg, encoder_type=name, rngs=nnx.Rngs(0))
        return nnx.state(box["enc"], nnx.Param)

    params = jax.eval_shape(build)
    enc = box["enc"]
    assert jax.tree.leaves(params) and enc._lazy_key is None  # nothing left to build at the first call
    assert enc.input_dim == (8, 8, 1)
    assert enc.latent_shape == ((2, 2, 3) if spatial else (3,))
    (mean, log_var), _ = abstract_call(lambda: enc, (2, 8, 8, 1))
    assert mean.shape == log_var.shape == (2, *enc.latent_shape)


@pytest.mark.parametrize("cls", CONV_ENCODERS)
def test_a_lazy_spatial_encoder_states_its_latent_shape_once_built(cls: type) -> None:
    (mean, _), enc = abstract_call(lambda: cls([4], 5, spatial=True, rngs=nnx.Rngs(0)), (2, 6, 10, 1))
    assert enc.latent_shape == mean.shape[1:] == (3, 5, 5)
    assert cls([4], 5, spatial=True, rngs=nnx.Rngs(0)).latent_shape is None  # unknown before the first call
    assert cls([4], 5, rngs=nnx.Rngs(0)).latent_shape == (5,)  # pooled: known without the input size


@pytest.mark.parametrize(("cls", "default"), [(CNNEncoder, 1), (ResNetEncoder, 2)])
def test_stage_factories_and_blocks_per_stage(cls: type, default: int) -> None:
    build = lambda **kw: cls([4, 8], 3, input_dim=(8, 8, 1), rngs=nnx.Rngs(0), **kw)  # noqa: E731
    assert build().blocks_per_stage == default and len(build().blocks) == 2 * default
    (mean, _), enc = abstract_call(lambda: build(blocks_per_stage=3), (2, 8, 8, 1))
    assert mean.shape == (2, 3) and len(enc.blocks) == 6
    first, *rest = enc.blocks[:3]
    if cls is CNNEncoder:
        assert first.conv.strides == 2 and [b.conv.strides for b in rest] == [1, 1]
        assert [b.conv.out_features for b in enc.blocks] == [4, 4, 4, 8, 8, 8]
    else:
        assert isinstance(first, ResidualDownBlock) and all(type(b) is ResidualBlock for b in rest)
    with pytest.raises(ValueError, match=f"{cls.__name__}: blocks_per_stage must be a positive integer, got 0"):
        build(blocks_per_stage=0)
