"""``loss_fn`` of every family member against its closed form, from a forward pass redone by hand.

Each test runs ``loss_fn(x=..., rng=key)`` (the forward pass inside ``loss_fn``, as the trainer calls it) and
recomputes the same numbers in NumPy from the encoder, the decoder and the key: ``z = mean + exp(log_var / 2)
* eps`` with ``eps ~ N(0, I)`` drawn from ``key``, the summed reconstruction likelihood, the Gaussian KL and
each variant's total. These pin the behaviour of the family's hidden machinery (latent strategies, the
``loss_terms`` hook) to the formulas on the API page.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae import VAE, VQVAE, BetaVAE, BetaVAEWithCapacity, ConditionalVAE
from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder
from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder

D, L, C = 6, 3, 4
X = jax.random.uniform(jax.random.key(1), (5, D))
KEY = jax.random.key(7)
RTOL = 2e-5


def _parts(seed: int = 0) -> tuple[MLPEncoder, MLPDecoder, nnx.Rngs]:
    rngs = nnx.Rngs(seed)
    return MLPEncoder([8], L, input_dim=(D,), rngs=rngs), MLPDecoder([8], (D,), L, rngs=rngs), rngs


def _np(a: jax.Array) -> np.ndarray:
    return np.asarray(a, np.float64)


def _gaussian(mean: jax.Array, log_var: jax.Array, key: jax.Array) -> tuple[jax.Array, np.ndarray]:
    """``z`` from the key as the family draws it, and the batch-mean KL(N(mean, exp(log_var)) || N(0, I))."""
    eps = jax.random.normal(key, mean.shape, dtype=mean.dtype)
    z = mean + jnp.exp(0.5 * jnp.clip(log_var, -20.0, 20.0)) * eps
    mu, lv = _np(mean), _np(log_var)
    kl = (-0.5 * (1 + lv - mu**2 - np.exp(lv)).sum(axis=1)).mean()
    return z, kl


def _recon(raw: jax.Array, x: jax.Array, kind: str) -> np.ndarray:
    r, t = _np(raw), _np(x)
    if kind == "mse":
        return ((r - t) ** 2).sum(axis=1).mean()
    nll = np.logaddexp(0.0, r) - t * r  # -[x log s(r) + (1 - x) log(1 - s(r))]
    return nll.sum(axis=1).mean()


@pytest.mark.parametrize("kind", ["mse", "bce"])
def test_vae(kind: str) -> None:
    enc, dec, rngs = _parts()
    vae = VAE(enc, dec, L, rngs=rngs, kl_weight=0.5, reconstruction_loss_type=kind)
    losses = vae.loss_fn(x=X, rng=KEY)
    mean, log_var = enc(X)
    z, kl = _gaussian(mean, log_var, KEY)
    recon = _recon(dec(z), X, kind)
    np.testing.assert_allclose(losses["reconstruction_loss"], recon, rtol=RTOL)
    np.testing.assert_allclose(losses["recon_loss"], recon, rtol=RTOL)
    np.testing.assert_allclose(losses["kl_loss"], kl, rtol=RTOL)
    np.testing.assert_allclose(losses["total_loss"], recon + 0.5 * kl, rtol=RTOL)
    np.testing.assert_allclose(losses["loss"], recon + 0.5 * kl, rtol=RTOL)
    np.testing.assert_allclose(vae.loss_fn(x=X, rng=KEY, beta=3.0)["loss"], recon + 3.0 * kl, rtol=RTOL)
    assert sorted(losses) == ["kl_loss", "loss", "recon_loss", "reconstruction_loss", "total_loss"]


@pytest.mark.parametrize("step", [None, 25, 400])
def test_beta_vae_warmup(step: int | None) -> None:
    enc, dec, rngs = _parts()
    model = BetaVAE(enc, dec, L, beta_default=4.0, beta_warmup_steps=100, reconstruction_loss_type="bce", rngs=rngs)
    losses = model.loss_fn(x=X, rng=KEY, step=step)
    mean, log_var = enc(X)
    z, kl = _gaussian(mean, log_var, KEY)
    recon = _recon(dec(z), X, "bce")
    beta = 4.0 if step is None else min(4.0, 4.0 * step / 100)
    np.testing.assert_allclose(losses["beta"], beta, rtol=1e-6)
    np.testing.assert_allclose(losses["kl_loss"], kl, rtol=RTOL)
    np.testing.assert_allclose(losses["loss"], recon + beta * kl, rtol=RTOL)
    np.testing.assert_allclose(losses["total_loss"], losses["loss"])


@pytest.mark.parametrize("control", [False, True])
def test_beta_vae_with_capacity(control: bool) -> None:
    enc, dec, rngs = _parts()
    model = BetaVAEWithCapacity(
        enc, dec, L, beta_default=2.0, use_capacity_control=control, capacity_max=5.0, capacity_num_iter=100,
        gamma=10.0, rngs=rngs,
    )
    losses = model.loss_fn(x=X, rng=KEY, step=30)
    mean, log_var = enc(X)
    z, kl = _gaussian(mean, log_var, KEY)
    recon = _recon(dec(z), X, "mse")
    capacity = 5.0 * 30 / 100
    np.testing.assert_allclose(losses["current_capacity"], capacity, rtol=1e-6)
    np.testing.assert_allclose(losses["kl_capacity_diff"], kl - capacity, rtol=1e-4)
    np.testing.assert_allclose(losses["capacity_loss"], 10.0 * abs(kl - capacity), rtol=1e-4)
    expected = recon + 10.0 * abs(kl - capacity) if control else recon + 2.0 * kl
    np.testing.assert_allclose(losses["loss"], expected, rtol=1e-4)
    np.testing.assert_allclose(losses["total_loss"], expected, rtol=1e-4)


def test_conditional_vae() -> None:
    enc, dec, rngs = _parts()
    cenc = ConditionalEncoder(enc, num_classes=C, embed_dim=2, rngs=rngs)
    cdec = ConditionalDecoder(dec, num_classes=C, embed_dim=2, rngs=rngs)
    model = ConditionalVAE(cenc, cdec, L, condition_dim=C, kl_weight=2.0, rngs=rngs)
    y = jnp.array([0, 1, 2, 3, 1])
    losses = model.loss_fn(batch={"x": X, "y": y}, rng=KEY)
    mean, log_var = cenc(X, condition=y)
    z, kl = _gaussian(mean, log_var, KEY)
    recon = _recon(cdec(z, condition=y), X, "mse")
    np.testing.assert_allclose(losses["reconstruction_loss"], recon, rtol=RTOL)
    np.testing.assert_allclose(losses["kl_loss"], kl, rtol=RTOL)
    np.testing.assert_allclose(losses["loss"], recon + 2.0 * kl, rtol=RTOL)
    np.testing.assert_allclose(model.loss_fn(x=X, y=y, rng=KEY)["loss"], losses["loss"], rtol=1e-6)


@pytest.mark.parametrize("train", [True, False])
def test_vq_vae(train: bool) -> None:
    rngs = nnx.Rngs(0)
    enc, dec = MLPEncoder([8], 4, input_dim=(D,), rngs=rngs), MLPDecoder([8], (D,), 4, rngs=rngs)
    model = VQVAE(enc, dec, latent_dim=4, num_embeddings=8, embedding_dim=2, commitment_cost=0.3, rngs=rngs)
    if not train:
        model.eval()
    codebook = _np(model.latent.codebook[...])
    losses = model.loss_fn(x=X, rng=KEY)
    z_e = _np(enc(X)[0])
    vectors = z_e.reshape(5, 2, 2)
    idx = ((vectors[:, :, None, :] - codebook[None, None]) ** 2).sum(-1).argmin(-1)
    codes = codebook[idx].reshape(5, 4)
    distance = ((z_e - codes) ** 2).sum(axis=1).mean()
    recon = _recon(dec(jnp.asarray(codes, jnp.float32)), X, "mse")
    np.testing.assert_allclose(losses["reconstruction_loss"], recon, rtol=1e-4)
    np.testing.assert_allclose(losses["codebook_loss"], distance, rtol=1e-4)
    np.testing.assert_allclose(losses["commitment_loss"], distance, rtol=1e-4)
    np.testing.assert_allclose(losses["vq_loss"], 1.3 * distance, rtol=1e-4)
    np.testing.assert_allclose(losses["loss"], recon + 1.3 * distance, rtol=1e-4)
    np.testing.assert_allclose(losses["total_loss"], losses["loss"])
    assert "kl_loss" not in losses
    counts = np.bincount(idx.reshape(-1), minlength=8) if train else np.zeros(8)
    np.testing.assert_array_equal(model.latent.code_counts[...], counts)
