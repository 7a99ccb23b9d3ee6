"""VQ-VAE on flat latents: quantization, straight-through gradients, code statistics, EMA codebook, sampling.

Spatial latents are in ``test_vq_vae_spatial.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae import VQVAE
from artifex_plugins.vae.decoders import MLPDecoder
from artifex_plugins.vae.encoders import MLPEncoder
from artifex_plugins.vae._quantizer import perplexity

D, E, K = 6, 2, 8


def make_vq(seed=0, latent=4, hidden=(8,), **kwargs) -> VQVAE:
    rngs = nnx.Rngs(seed)
    enc = MLPEncoder(list(hidden), latent, input_dim=(D,), rngs=rngs)
    dec = MLPDecoder(list(hidden), (D,), latent, rngs=rngs)
    return VQVAE(enc, dec, latent_dim=latent, num_embeddings=K, embedding_dim=E, rngs=rngs, **kwargs)


X = jax.random.uniform(jax.random.key(1), (5, D))


def codebook(model):
    return np.asarray(model.latent.codebook[...])


# -- quantize ------------------------------------------------------------------------------------
def test_codebook_vectors_quantize_to_themselves():
    model = make_vq()
    cb = model.latent.codebook[...]
    enc = cb[jnp.array([3, 1, 5, 0])].reshape(2, 2 * E)
    q, aux = model.quantize(enc)
    np.testing.assert_array_equal(q, enc)
    assert aux["encoding_indices"].tolist() == [[3, 1], [5, 0]]
    assert float(aux["commitment_loss"]) == 0.0 and float(aux["codebook_loss"]) == 0.0


def test_quantize_picks_nearest_codes_and_losses_match_closed_form():
    model = make_vq()
    z = np.asarray(jax.random.normal(jax.random.key(2), (3, 4))) * 0.01
    q, aux = model.quantize(jnp.asarray(z))
    cb = codebook(model)
    vectors = z.reshape(3, 2, E)
    dist = ((vectors[:, :, None, :] - cb[None, None]) ** 2).sum(-1)
    idx = dist.argmin(-1)
    assert aux["encoding_indices"].tolist() == idx.tolist()
    np.testing.assert_allclose(q, cb[idx].reshape(3, 4), rtol=1e-6, atol=1e-7)
    expected = ((z - cb[idx].reshape(3, 4)) ** 2).sum(1).mean()
    np.testing.assert_allclose(aux["codebook_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(aux["commitment_loss"], expected, rtol=1e-5)


def test_straight_through_gradient_equals_upstream_gradient():
    model = make_vq()
    z = jax.random.normal(jax.random.key(3), (3, 4))
    w = jax.random.normal(jax.random.key(4), (3, 4))
    grad = jax.grad(lambda z: jnp.sum(w * model.quantize(z)[0]))(z)
    np.testing.assert_allclose(grad, w, rtol=1e-6)
    q = model.quantize(z)[0]
    commit = jax.grad(lambda z: model.quantize(z)[1]["commitment_loss"])(z)
    np.testing.assert_allclose(commit, 2 * (z - q) / 3, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(jax.grad(lambda z: model.quantize(z)[1]["codebook_loss"])(z), 0.0)


def test_quantize_is_pure_and_jittable():
    model = make_vq()
    z = jax.random.normal(jax.random.key(5), (3, 4))
    before = np.asarray(model.latent.code_counts[...])
    q_jit, aux_jit = jax.jit(lambda z: model.quantize(z))(z)
    q, aux = model.quantize(z)
    np.testing.assert_array_equal(q, q_jit)
    np.testing.assert_array_equal(aux["encoding_indices"], aux_jit["encoding_indices"])
    np.testing.assert_array_equal(model.latent.code_counts[...], before)


def test_latent_width_must_be_multiple_of_embedding_dim():
    with pytest.raises(ValueError, match="multiple of embedding_dim"):
        make_vq(latent=5)
    with pytest.raises(ValueError, match="multiple of embedding_dim"):
        make_vq().quantize(jnp.zeros((2, 3)))


# -- forward and loss ----------------------------------------------------------------------------
def test_outputs_and_loss_terms():
    model = make_vq(commitment_cost=0.5)
    out = model(X)
    assert {"reconstructed", "reconstruction", "z", "z_e", "quantized", "commitment_loss", "codebook_loss",
            "encoding_indices", "perplexity"} <= set(out)
    assert out["encoding_indices"].shape == (5, 2) and out["quantized"].shape == (5, 4)
    np.testing.assert_allclose(out["perplexity"], perplexity(out["encoding_indices"], K))
    losses = model.loss_fn(x=X, outputs=out)
    recon = ((np.asarray(out["reconstructed"]) - np.asarray(X)) ** 2).sum(1).mean()
    np.testing.assert_allclose(losses["reconstruction_loss"], recon, rtol=1e-5)
    expected = recon + float(out["codebook_loss"]) + 0.5 * float(out["commitment_loss"])
    np.testing.assert_allclose(losses["total_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(losses["loss"], expected, rtol=1e-5)
    assert {"commitment_loss", "codebook_loss", "recon_loss"} <= set(losses)


def test_perplexity_closed_form():
    assert float(perplexity(jnp.zeros((4, 2), jnp.int32), K)) == pytest.approx(1.0)
    assert float(perplexity(jnp.arange(K), K)) == pytest.approx(K, rel=1e-5)


def test_code_counts_update_in_training_path_only():
    model = make_vq()
    assert float(model.latent.code_counts[...].sum()) == 0.0
    out = model(X)
    counts = np.bincount(np.asarray(out["encoding_indices"]).ravel(), minlength=K)
    np.testing.assert_array_equal(model.latent.code_counts[...], counts)
    model.loss_fn(x=X)  # runs the forward pass once more
    assert float(model.latent.code_counts[...].sum()) == 2 * 5 * 2
    model.eval()
    model(X)
    model.loss_fn(batch=X)
    assert float(model.latent.code_counts[...].sum()) == 20
    model.train()
    nnx.jit(lambda m, x: m.loss_fn(batch=x)["loss"])(model, X)
    assert float(model.latent.code_counts[...].sum()) == 30


def test_ema_codebook_follows_assignments_not_gradients():
    model = make_vq(use_ema=True, ema_decay=0.9)
    assert "codebook" not in nnx.state(model.latent, nnx.Param)
    cb0 = codebook(model)
    out = model(X)
    z = np.asarray(out["z_e"], np.float64).reshape(-1, E)
    idx = np.asarray(out["encoding_indices"]).ravel()
    onehot = np.eye(K)[idx]
    sizes = 0.9 * np.ones(K) + 0.1 * onehot.sum(0)
    sums = 0.9 * cb0 + 0.1 * onehot.T @ z
    smoothed = (sizes + 1e-5) / (sizes.sum() + K * 1e-5) * sizes.sum()
    np.testing.assert_allclose(codebook(model), sums / smoothed[:, None], rtol=1e-4, atol=1e-6)
    used = np.unique(idx)
    assert not np.allclose(codebook(model)[used], cb0[used])
    model.eval()
    frozen = codebook(model)
    model(X)
    np.testing.assert_array_equal(codebook(model), frozen)
    grads = nnx.grad(lambda m: m.loss_fn(x=X)["loss"])(model)
    assert "latent" not in grads  # the strategy has no Param: the EMA codebook is its only array


def test_plain_codebook_is_a_trained_param():
    model = make_vq()
    grads = nnx.grad(lambda m: m.loss_fn(x=X)["loss"])(model)
    assert float(jnp.abs(grads["latent"]["codebook"][...]).sum()) > 0


# -- user-facing methods decode quantized codes ----------------------------------------------------
def test_reconstruct_interpolate_and_traversal_decode_quantized_codes():
    # reference defect: these skipped quantization
    model = make_vq()
    z_e = model.encode(X)[0]
    decode_q = lambda z: model.decoder(model.quantize(z)[0])  # noqa: E731
    np.testing.assert_allclose(model.reconstruct(X), decode_q(z_e), rtol=1e-6)
    np.testing.assert_allclose(model.reconstruct(X, deterministic=True), decode_q(z_e), rtol=1e-6)
    assert not np.allclose(model.reconstruct(X), model.decoder(z_e))
    frames = model.interpolate(X[0], X[1], steps=4)
    a = jnp.linspace(0, 1, 4)[:, None]
    np.testing.assert_allclose(frames, decode_q((1 - a) * z_e[:1] + a * z_e[1:2]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(frames[0], model.reconstruct(X[:1])[0], rtol=1e-5)
    trav = model.latent_traversal(X[0], dim=3, range_vals=(-1.0, 1.0), steps=4)
    z = jnp.tile(z_e[:1], (4, 1)).at[:, 3].set(jnp.linspace(-1, 1, 4))
    np.testing.assert_allclose(trav, decode_q(z), rtol=1e-5, atol=1e-6)
    assert not np.allclose(trav, model.decoder(z))


def test_sample_and_generate_decode_codebook_vectors():
    model = make_vq(latent=E, hidden=())  # one code per example, linear decoder
    decoded_codes = np.asarray(model.decoder(model.latent.codebook[...]))  # (K, D)
    samples = np.asarray(model.generate(16))
    dist = ((samples[:, None, :] - decoded_codes[None]) ** 2).sum(-1)
    assert np.all(dist.min(1) < 1e-8)  # every sample is exactly a decoded code


def test_sample_prior_is_code_frequencies_reshaped_by_temperature():
    # reference defect: VQ sampling ignored temperature
    model = make_vq(latent=E, hidden=())
    np.testing.assert_allclose(model.latent.prior_probs(), np.full(K, 1 / K), rtol=1e-6)  # uniform before training
    counts = np.array([60.0, 30.0, 10.0, 0, 0, 0, 0, 0])
    model.latent.code_counts[...] = jnp.asarray(counts)
    p = counts / counts.sum()
    for t in (1.0, 0.5, 2.0):
        expected = p ** (1 / t) / (p ** (1 / t)).sum()
        np.testing.assert_allclose(model.latent.prior_probs(t), expected, rtol=1e-5, atol=1e-7)
    decoded_codes = np.asarray(model.decoder(model.latent.codebook[...]))

    def frequencies(temperature):
        s = np.asarray(model.sample(3000, temperature=temperature, rngs=nnx.Rngs(0)))
        idx = ((s[:, None, :] - decoded_codes[None]) ** 2).sum(-1).argmin(1)
        return np.bincount(idx, minlength=K) / len(idx)

    f1, f_half = frequencies(1.0), frequencies(0.5)
    np.testing.assert_allclose(f1, p, atol=0.03)
    np.testing.assert_allclose(f_half, p**2 / (p**2).sum(), atol=0.03)
    assert f_half[0] > f1[0] + 0.1
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=0.0)


def test_precision_reaches_the_layers():
    high = jax.lax.Precision.HIGHEST
    model = make_vq(precision=high)
    layers = [n for _, n in nnx.iter_graph(model) if isinstance(n, nnx.Linear)]
    assert layers and all(layer.precision == high for layer in layers)
    assert model.precision == high
    cb = model.latent.codebook[...]
    assert model.quantize(cb[:4].reshape(2, 4))[1]["encoding_indices"].tolist() == [[0, 1], [2, 3]]
