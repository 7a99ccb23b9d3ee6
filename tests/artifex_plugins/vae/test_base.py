"""The base VAE: signatures, conventions, closed-form losses and the reference implementation's defects."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import GenerativeModel
from artifex_core.testing import isolated_registries
from artifex_plugins.vae import VAE
from artifex_plugins.vae.decoders import MLPDecoder
from artifex_plugins.vae.encoders import MLPEncoder
from artifex_plugins.vae import bce

D, L = 6, 3


def make_vae(seed=0, hidden=(8,), cls=VAE, input_dim=(D,), **kwargs):
    rngs = nnx.Rngs(seed)
    enc = MLPEncoder(list(hidden), L, input_dim=input_dim, rngs=rngs)
    dec = MLPDecoder(list(reversed(hidden)), (D,), L, rngs=rngs)
    return cls(enc, dec, latent_dim=L, rngs=rngs, **kwargs)


def data(n=5, seed=1):
    return jax.random.uniform(jax.random.key(seed), (n, D))


class BadEncoder(nnx.Module):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, x, *, rngs=None):
        if self.kind == "array":
            return x[:, :L]
        if self.kind == "triple":
            return x[:, :L], x[:, :L], x[:, :L]
        if self.kind == "mismatch":
            return x[:, :L], x[:, :2]
        return x[:, :2], x[:, :2]  # wrong latent width


class ConstDecoder(nnx.Module):
    """Raw outputs all equal to ``value`` (logits under "bce")."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.output_dim = (D,)

    def __call__(self, z, *, rngs=None):
        return jnp.full((z.shape[0], D), self.value) + 0.0 * z.sum()


# -- construction ---------------------------------------------------------------------------------
@pytest.mark.parametrize("latent_dim", [0, -2, 2.5, True])
def test_latent_dim_must_be_positive_int(latent_dim):
    rngs = nnx.Rngs(0)
    with pytest.raises(ValueError, match="latent_dim"):
        VAE(MLPEncoder([4], 2, input_dim=(D,), rngs=rngs), MLPDecoder([4], (D,), 2, rngs=rngs), latent_dim, rngs=rngs)


def test_unknown_loss_type_is_value_error_with_suggestion():
    with pytest.raises(ValueError, match="did you mean 'bce'"):
        make_vae(reconstruction_loss_type="bcee")


@pytest.mark.parametrize("kind", ["array", "triple", "mismatch", "width"])
def test_bad_encoder_output_is_value_error(kind):
    rngs = nnx.Rngs(0)
    vae = VAE(BadEncoder(kind), MLPDecoder([4], (D,), L, rngs=rngs), L, rngs=rngs)
    with pytest.raises(ValueError, match="encoder"):
        vae.encode(data())
    with pytest.raises(ValueError, match="encoder"):
        vae(data())


def test_satisfies_generative_model_protocol():
    assert isinstance(make_vae(), GenerativeModel)


# -- forward --------------------------------------------------------------------------------------
def test_call_returns_exact_keys_in_data_space():
    vae = make_vae()
    out = vae(data())
    assert list(out) == ["reconstructed", "reconstruction", "mean", "log_var", "logvar", "z"]
    assert out["reconstruction"] is out["reconstructed"] and out["logvar"] is out["log_var"]
    assert out["reconstructed"].shape == (5, D) and out["z"].shape == (5, L)
    jitted = nnx.jit(lambda m, x: m(x))(vae, data())
    assert sorted(jitted) == sorted(out)  # jit returns dict keys sorted


def test_same_seed_same_results_and_stream_advances():
    a, b = make_vae(seed=0), make_vae(seed=0)
    x = data()
    za1, za2 = a(x)["z"], a(x)["z"]
    np.testing.assert_array_equal(za1, b(x)["z"])
    assert not np.allclose(za1, za2)  # own stream advanced
    a, b = make_vae(seed=0), make_vae(seed=0)
    np.testing.assert_array_equal(a.sample(2), b.sample(2))
    assert not np.allclose(a.sample(2), a.sample(2))


def test_given_rngs_use_their_sample_stream():
    vae = make_vae()
    s1 = vae.sample(3, rngs=nnx.Rngs(params=0, dropout=1, sample=5))
    s2 = vae.sample(3, rngs=nnx.Rngs(params=9, dropout=9, sample=5))
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(vae.sample(3, rngs=nnx.Rngs(4)), vae.sample(3, rngs=nnx.Rngs(4)))
    VAE(vae.encoder, vae.decoder, L, rngs=nnx.Rngs(params=0, dropout=1, sample=2)).sample(1)


# -- reparameterization ---------------------------------------------------------------------------
def test_reparameterize_mean_and_std_over_many_draws():
    vae = make_vae()
    n = 40_000
    mu = jnp.array([1.0, -2.0, 0.5])
    lv = jnp.array([0.0, 1.0, -1.0])
    mean, log_var = jnp.tile(mu, (n, 1)), jnp.tile(lv, (n, 1))
    for rngs in (None, nnx.Rngs(3)):
        z = np.asarray(vae.reparameterize(mean, log_var, rngs=rngs))
        np.testing.assert_allclose(z.mean(0), mu, atol=0.04)
        np.testing.assert_allclose(z.std(0), np.exp(0.5 * np.asarray(lv)), rtol=0.02)


def test_reparameterize_clips_log_variance():
    vae = make_vae()
    n = 20_000
    z = np.asarray(vae.reparameterize(jnp.zeros((n, 2)), jnp.tile(jnp.array([100.0, -100.0]), (n, 1))))
    np.testing.assert_allclose(z.std(0), [np.exp(10.0), np.exp(-10.0)], rtol=0.03)
    assert np.all(np.isfinite(z))


def test_reparameterize_eager_jit_with_and_without_rngs():
    vae = make_vae()
    mean, log_var = jnp.zeros((2, L)), jnp.zeros((2, L))
    np.testing.assert_array_equal(
        vae.reparameterize(mean, log_var, rngs=nnx.Rngs(1)), vae.reparameterize(mean, log_var, rngs=nnx.Rngs(1))
    )
    f = nnx.jit(lambda m, a, b: m.reparameterize(a, b))
    z1, z2 = f(vae, mean, log_var), f(vae, mean, log_var)
    assert not np.allclose(z1, z2)
    g = nnx.jit(lambda m, a, b, r: m.reparameterize(a, b, rngs=r))
    np.testing.assert_array_equal(g(vae, mean, log_var, nnx.Rngs(2)), g(vae, mean, log_var, nnx.Rngs(2)))


# -- loss -----------------------------------------------------------------------------------------
def test_loss_is_nats_per_example_with_kl_weight_and_beta_override():
    vae = make_vae(kl_weight=0.5)
    x = data()
    out = vae(x, rngs=nnx.Rngs(1))
    losses = vae.loss_fn(x=x, outputs=out)
    assert sorted(losses) == ["kl_loss", "loss", "recon_loss", "reconstruction_loss", "total_loss"]
    rec = np.asarray(out["reconstructed"], np.float64)
    recon = ((rec - np.asarray(x)) ** 2).sum(1).mean()
    mu, lv = np.asarray(out["mean"], np.float64), np.asarray(out["log_var"], np.float64)
    kl = (0.5 * (np.exp(lv) + mu**2 - 1 - lv).sum(1)).mean()
    np.testing.assert_allclose(losses["reconstruction_loss"], recon, rtol=1e-5)
    np.testing.assert_allclose(losses["recon_loss"], recon, rtol=1e-5)
    np.testing.assert_allclose(losses["kl_loss"], kl, rtol=1e-5)
    np.testing.assert_allclose(losses["total_loss"], recon + 0.5 * kl, rtol=1e-5)
    np.testing.assert_allclose(losses["loss"], recon + 0.5 * kl, rtol=1e-5)
    np.testing.assert_allclose(vae.loss_fn(x=x, outputs=out, beta=2.0)["total_loss"], recon + 2 * kl, rtol=1e-5)


def test_custom_reconstruction_loss_fn_is_the_reconstruction_loss():
    vae = make_vae()
    x = data()
    out = vae(x)
    seen = {}

    def fn(reconstructed, target):
        seen["args"] = (reconstructed, target)
        return jnp.float32(123.0)

    losses = vae.loss_fn(x=x, outputs=out, reconstruction_loss_fn=fn)
    assert seen["args"][0] is out["reconstructed"]
    np.testing.assert_allclose(losses["reconstruction_loss"], 123.0)
    np.testing.assert_allclose(losses["total_loss"], 123.0 + losses["kl_loss"], rtol=1e-6)


def test_loss_fn_accepts_array_or_dict_batches():
    vae = make_vae()
    x = data()
    key = jax.random.key(4)
    ref = vae.loss_fn(x=x, rng=key)["loss"]
    for batch in (x, {"x": x}, {"image": x}, {"data": x, "label": jnp.zeros(5)}):
        np.testing.assert_allclose(vae.loss_fn(batch=batch, rng=key)["loss"], ref, rtol=1e-6)
    with pytest.raises(ValueError, match="batch dict"):
        vae.loss_fn(batch={"inputs": x})
    with pytest.raises(ValueError, match="data"):
        vae.loss_fn()
    # without rng the model's own stream is used and advances
    assert float(vae.loss_fn(batch=x)["loss"]) != float(vae.loss_fn(batch=x)["loss"])


def test_bce_model_is_in_data_space_and_loss_uses_logits():
    vae = make_vae(reconstruction_loss_type="bce")
    x = data()
    out = vae(x, rngs=nnx.Rngs(1))
    for arr in (out["reconstructed"], vae.sample(4), vae.reconstruct(x), vae.interpolate(x[0], x[1], 3),
                vae.latent_traversal(x[0], 0, steps=3), vae.decode(jnp.zeros((2, L)))):
        assert float(arr.min()) >= 0.0 and float(arr.max()) <= 1.0
    losses = vae.loss_fn(x=x, outputs=out)
    expected = bce(vae.decoder(out["z"]), x).mean()
    np.testing.assert_allclose(losses["reconstruction_loss"], expected, rtol=1e-5)


def test_bce_with_saturated_outputs_is_not_clipped():
    rngs = nnx.Rngs(0)
    vae = VAE(MLPEncoder([4], L, input_dim=(D,), rngs=rngs), ConstDecoder(60.0), L, rngs=rngs,
              reconstruction_loss_type="bce")
    x = jnp.zeros((2, D))
    out = vae(x)
    assert float(out["reconstructed"].min()) == 1.0  # sigmoid saturates in float32
    np.testing.assert_allclose(vae.loss_fn(x=x, outputs=out)["reconstruction_loss"], 60.0 * D, rtol=1e-5)
    np.testing.assert_allclose(vae.loss_fn(x=x)["reconstruction_loss"], 60.0 * D, rtol=1e-5)


def test_registered_plain_callable_loss_is_used():
    def half_sq(reconstructed, x):
        return 0.5 * jnp.mean(jnp.sum((reconstructed - x) ** 2, axis=-1))

    with isolated_registries():
        from artifex_core import losses

        losses.register("half_sq", half_sq)
        vae = make_vae(reconstruction_loss_type="half_sq")
        x = data()
        out = vae(x)
        np.testing.assert_allclose(
            vae.loss_fn(x=x, outputs=out)["reconstruction_loss"], half_sq(out["reconstructed"], x), rtol=1e-6
        )


# -- generation -----------------------------------------------------------------------------------
def test_temperature_scales_prior_noise():
    vae = make_vae(hidden=())  # linear decoder: decode(z) = W z + b
    base = vae.decode(jnp.zeros((1, L)))
    s1 = vae.sample(4, temperature=1.0, rngs=nnx.Rngs(7))
    s2 = vae.sample(4, temperature=2.0, rngs=nnx.Rngs(7))
    np.testing.assert_allclose(s2 - base, 2.0 * (s1 - base), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(vae.sample(3, temperature=0.0), jnp.tile(base, (3, 1)), atol=1e-6)
    np.testing.assert_array_equal(vae.generate(4, temperature=2.0, rngs=nnx.Rngs(7)), s2)
    assert vae.sample().shape == (1, D)


def test_reconstruct_deterministic_uses_the_mean():
    vae = make_vae()
    x = data()
    det = vae.reconstruct(x, deterministic=True)
    np.testing.assert_allclose(det, vae.decode(vae.encode(x)[0]), rtol=1e-6)
    np.testing.assert_array_equal(det, vae.reconstruct(x, deterministic=True, rngs=nnx.Rngs(3)))
    assert not np.allclose(vae.reconstruct(x), det)


def test_interpolate_is_deterministic_and_includes_endpoints():
    vae = make_vae()
    x = data()
    frames = vae.interpolate(x[0], x[1], steps=3)
    assert frames.shape == (3, D)
    np.testing.assert_allclose(frames[0], vae.reconstruct(x[:1], deterministic=True)[0], rtol=1e-5)
    np.testing.assert_allclose(frames[-1], vae.reconstruct(x[1:2], deterministic=True)[0], rtol=1e-5)
    m = vae.encode(x[:2])[0]
    np.testing.assert_allclose(frames[1], vae.decode(m.mean(0, keepdims=True))[0], rtol=1e-5)
    np.testing.assert_array_equal(frames, vae.interpolate(x[:1], x[1:2], steps=3, rngs=nnx.Rngs(5)))
    with pytest.raises(ValueError, match="single example"):
        vae.interpolate(x[:2], x[2:4])


def test_latent_traversal_sweeps_one_dim_of_the_mean():
    vae = make_vae()
    x = data()
    frames = vae.latent_traversal(x[0], dim=1, range_vals=(-2.0, 2.0), steps=5)
    assert frames.shape == (5, D)
    mean = vae.encode(x[:1])[0]
    for k, v in enumerate(np.linspace(-2.0, 2.0, 5)):
        np.testing.assert_allclose(frames[k], vae.decode(mean.at[0, 1].set(v))[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(frames, vae.latent_traversal(x[:1], 1, (-2.0, 2.0), 5))
    for bad in (-1, L, 1.5):
        with pytest.raises(ValueError, match="dim"):
            vae.latent_traversal(x[0], dim=bad)


def test_precision_reaches_every_layer():
    high = jax.lax.Precision.HIGHEST
    vae = make_vae(precision=high)
    layers = [n for _, n in nnx.iter_graph(vae) if isinstance(n, nnx.Linear)]
    assert len(layers) == 5 and all(layer.precision == high for layer in layers)
    lazy = make_vae(precision=high, input_dim=None)  # encoder layers built at the first call
    lazy(data())
    layers = [n for _, n in nnx.iter_graph(lazy.encoder) if isinstance(n, nnx.Linear)]
    assert layers and all(layer.precision == high for layer in layers)
    assert all(n.precision is None for _, n in nnx.iter_graph(make_vae()) if isinstance(n, nnx.Linear))


# -- reference defects ----------------------------------------------------------------------------
def test_no_batch_statistics_single_example_encodes_depend_on_the_example():
    vae = make_vae()
    x = data()
    m0, m1 = vae.encode(x[:1])[0], vae.encode(x[1:2])[0]
    assert not np.allclose(m0, m1)
    np.testing.assert_allclose(m0[0], vae.encode(x)[0][0], rtol=1e-5)
    frames = vae.interpolate(x[0], x[1], steps=4)
    assert not np.allclose(frames[0], frames[-1])
    traversal = vae.latent_traversal(x[0], 0, steps=4)
    assert not np.allclose(traversal[0], traversal[-1])


def test_decoder_hidden_dims_are_used_as_given():
    dec = MLPDecoder([4, 16], (D,), L, rngs=nnx.Rngs(0))
    assert [layer.out_features for layer in dec.layers] == [4, 16]
