"""IWAE bound against the linear-Gaussian model, where log p(x) is known in closed form.

p(z) = N(0, I), p(x | z) = N(x; z (+ y), s2 I), so p(x) = N(0 (or y), (1 + s2) I), and the exact posterior is
q(z | x) = N(x / (1 + s2), s2 / (1 + s2) I). With the exact posterior every importance weight equals p(x), so
the bound is exact for any k; with the prior as q the bound is loose and tightens as k grows.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifex_plugins.metrics import (
    bernoulli_log_likelihood,
    gaussian_log_likelihood,
    iwae_bound,
    iwae_nll,
    model_iwae_bound,
)

S2 = 0.25


def exact_log_px(x: np.ndarray, s2: float = S2) -> np.ndarray:
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return np.sum(-0.5 * (np.log(2 * np.pi * (1 + s2)) + x**2 / (1 + s2)), axis=1)


def exact_encoder(s2: float = S2):
    def encode(x):
        return x / (1 + s2), jnp.full_like(x, math.log(s2 / (1 + s2)))

    return encode


def prior_encoder(x):
    return jnp.zeros_like(x), jnp.zeros_like(x)


@pytest.fixture(scope="module")
def data() -> jax.Array:
    return jax.random.normal(jax.random.key(1), (5, 3)) * math.sqrt(1 + S2)


@pytest.mark.parametrize(("k", "chunk", "batch_size"), [(1, 1, 5), (10, 4, 2), (7, 7, 3)])
def test_exact_posterior_gives_exact_log_likelihood(data, k, chunk, batch_size):
    # k % chunk != 0 checks the masking of the last chunk, 5 % batch_size != 0 the padding of the last batch
    bound = iwae_bound(
        exact_encoder(), lambda z: z, gaussian_log_likelihood(math.sqrt(S2)), data,
        key=jax.random.key(0), k=k, chunk=chunk, batch_size=batch_size,
    )
    assert bound.shape == (5,)
    np.testing.assert_allclose(bound, exact_log_px(data), atol=2e-5)


def test_spatial_latents_are_flattened_for_the_densities():
    x = jax.random.normal(jax.random.key(2), (4, 2, 3))  # latent (B, 2, 3), decoder identity
    bound = iwae_bound(exact_encoder(), lambda z: z, gaussian_log_likelihood(math.sqrt(S2)), x,
                       key=jax.random.key(0), k=5)
    np.testing.assert_allclose(bound, exact_log_px(x), atol=2e-5)


def test_bound_with_prior_as_proposal_tightens_as_k_grows():
    x = jax.random.normal(jax.random.key(3), (128, 1)) * math.sqrt(1 + S2)
    ll = gaussian_log_likelihood(math.sqrt(S2))
    means = [
        iwae_bound(prior_encoder, lambda z: z, ll, x, key=jax.random.key(4), k=k, chunk=100, batch_size=64).mean()
        for k in (1, 100, 1000)
    ]
    exact = exact_log_px(x).mean()
    assert means == sorted(means), means
    assert exact - means[0] > 0.5  # the ELBO with q = prior is loose
    assert -0.02 < exact - means[-1] < 0.1  # k = 1000 is nearly exact
    # k = 1 is the ELBO; with q = prior: E log N(x; z, s2) = -0.5 log(2 pi s2) - (x^2 + 1) / (2 s2).
    # Each one-sample term has a standard deviation of about 5.3 nats here: average 50 draws per example.
    x50 = jnp.tile(x, (50, 1))
    elbo_1 = iwae_bound(prior_encoder, lambda z: z, ll, x50, key=jax.random.key(5), k=1, batch_size=6400).mean()
    elbo = np.mean(-0.5 * np.log(2 * np.pi * S2) - (np.asarray(x)[:, 0] ** 2 + 1) / (2 * S2))
    assert abs(elbo_1 - elbo) < 0.3  # about 4.5 standard errors


def test_same_key_same_samples_jitted_or_eager(data):
    ll = gaussian_log_likelihood(1.0)
    args = (prior_encoder, lambda z: z, ll, data)
    a = iwae_bound(*args, key=jax.random.key(5), k=20, chunk=6)
    c = iwae_bound(*args, key=jax.random.key(5), k=20, chunk=6, jit=False)
    d = iwae_bound(*args, key=jax.random.key(6), k=20, chunk=6)
    np.testing.assert_allclose(a, c, atol=1e-5)  # the same key draws the same samples, jitted or not
    assert not np.allclose(a, d)


def test_condition_is_passed_to_encoder_and_decoder():
    y = jnp.array([0.0, 3.0, -2.0, 1.0])
    x = y[:, None] + jax.random.normal(jax.random.key(7), (4, 2))

    def encode(xb, yb):
        return (xb - yb[:, None]) / (1 + S2), jnp.full_like(xb, math.log(S2 / (1 + S2)))

    nll = iwae_nll(encode, lambda z, yb: z + yb[:, None], gaussian_log_likelihood(math.sqrt(S2)), x,
                   key=jax.random.key(0), k=3, condition=y, batch_size=3)
    expected = -exact_log_px(np.asarray(x) - np.asarray(y)[:, None]).mean()
    assert nll == pytest.approx(expected, abs=1e-4)


def test_bernoulli_log_likelihood_closed_form():
    logits = jnp.array([[0.0, 2.0, -1.0]])
    x = jnp.array([[1.0, 0.0, 1.0]])
    p = jax.nn.sigmoid(logits)[0]
    expected = math.log(p[0]) + math.log(1 - p[1]) + math.log(p[2])
    assert float(bernoulli_log_likelihood(logits, x)[0]) == pytest.approx(expected, rel=1e-5)


class _LinearGaussianModel:
    """Duck-typed model with the Gaussian-latent contract: exact posterior for p(x|z) = N(z, 1/2)."""

    latent_type = "gaussian"
    normalized_likelihood = True

    def encode(self, x):
        return exact_encoder(0.5)(x)

    def decode_outputs(self, z):
        return {"z": z, "decoder_output": z}

    def log_likelihood(self, x, outputs):
        return gaussian_log_likelihood(math.sqrt(0.5))(outputs["decoder_output"], x)


def test_model_iwae_bound_uses_the_models_log_likelihood():
    x = jax.random.normal(jax.random.key(10), (6, 2)) * math.sqrt(1.5)
    nll = -model_iwae_bound(_LinearGaussianModel(), x, key=jax.random.key(0), k=4).mean()
    assert nll == pytest.approx(-exact_log_px(x, 0.5).mean(), abs=1e-4)


def test_model_iwae_bound_on_a_real_vae_is_finite_and_tightens():
    from flax import nnx

    from artifex_plugins.vae import VAE
    from artifex_plugins.vae.decoders import MLPDecoder
    from artifex_plugins.vae.encoders import MLPEncoder

    rngs = nnx.Rngs(0)
    vae = VAE(MLPEncoder([8], 2, input_dim=(6,), rngs=rngs), MLPDecoder([8], (6,), 2, rngs=rngs),
              latent_dim=2, rngs=rngs, reconstruction_loss_type="bce")
    x = (jax.random.uniform(jax.random.key(11), (32, 6)) > 0.5).astype(jnp.float32)
    nll_1 = -model_iwae_bound(vae, x, key=jax.random.key(0), k=1).mean()
    nll_200 = -model_iwae_bound(vae, x, key=jax.random.key(0), k=200, chunk=50).mean()
    assert np.isfinite(nll_1) and np.isfinite(nll_200)
    assert nll_200 < nll_1
    assert nll_200 > 0  # a Bernoulli NLL in nats is positive


def test_invalid_arguments_are_rejected(data):
    ll = gaussian_log_likelihood(1.0)
    with pytest.raises(ValueError, match="k must be positive"):
        iwae_bound(prior_encoder, lambda z: z, ll, data, key=jax.random.key(0), k=0)
    with pytest.raises(ValueError, match="condition has 2 rows for 5 examples"):
        iwae_bound(prior_encoder, lambda z: z, ll, data, key=jax.random.key(0), k=2, condition=jnp.zeros(2))
    with pytest.raises(ValueError, match="no examples"):
        iwae_bound(prior_encoder, lambda z: z, ll, data[:0], key=jax.random.key(0), k=2)
    with pytest.raises(ValueError, match="scale must be positive"):
        gaussian_log_likelihood(0.0)

    class BatchMean(_LinearGaussianModel):
        def log_likelihood(self, x, outputs):
            return super().log_likelihood(x, outputs).mean()

    with pytest.raises(ValueError, match=r"log_likelihood must give one value per example, shape \(5,\); got shape \(\)"):
        model_iwae_bound(BatchMean(), data, key=jax.random.key(0), k=1)


def test_progress_reports_the_examples_done_and_keeps_the_result() -> None:
    from artifex_core.evaluation import progress_scope

    x = np.random.default_rng(3).normal(size=(150, 2)).astype(np.float32)
    args = (exact_encoder(), lambda z: z, gaussian_log_likelihood(math.sqrt(S2)), x)
    seen: list[tuple[int, int]] = []
    with progress_scope(lambda done, total: seen.append((done, total))):  # as `artifex evaluate` runs it
        bound = iwae_bound(*args, k=4, batch_size=64, key=jax.random.key(0))
    assert seen == [(64, 150), (128, 150), (150, 150)]
    np.testing.assert_allclose(bound, exact_log_px(x), atol=1e-4)  # every batch landed in its own rows
    direct: list[tuple[int, int]] = []
    again = iwae_bound(*args, k=4, batch_size=64, key=jax.random.key(0), progress=lambda d, t: direct.append((d, t)))
    assert direct == seen and np.array_equal(again, bound)
