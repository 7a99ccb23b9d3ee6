"""The two-layer hierarchical VAE on a linear-Gaussian case: exact weights, ELBO terms, shapes, top-down sampling.

Model: p(z2) = N(0, 1), p(z1 | z2) = N(z2, 1), p(x | z1) = N(z1, s^2), so p(x) = N(0, 2 + s^2).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import ModelConfig, create_model
from artifex_zoo import HierarchicalVAE, ZooIWAE, model_log_weight_bounds

S2 = 0.5


class Affine(nnx.Module):
    """x -> (a x + b, c): a Gaussian (mean, log_var) map."""

    def __init__(self, a: float, b: float, c: float, dim: tuple[int, ...] = (1,)) -> None:
        self.a, self.b, self.c = a, b, c
        self.input_dim = self.output_dim = dim

    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        return self.a * x + self.b, jnp.full_like(x, self.c)


class Identity(nnx.Module):
    def __init__(self) -> None:
        self.output_dim = (1,)

    def __call__(self, z: jax.Array) -> jax.Array:
        return z


class GaussianHVAE(HierarchicalVAE):
    normalized_likelihood = True

    def log_likelihood(self, x: jax.Array, outputs: dict[str, Any], *, y: Any = None) -> jax.Array:
        d = x - outputs["decoder_output"]
        return jnp.sum(-0.5 * (math.log(2 * math.pi * S2) + d * d / S2), axis=-1)


def _model(q1: tuple[float, float, float], k: int = 1, p1_scale: float = 1.0) -> GaussianHVAE:
    return GaussianHVAE(Affine(*q1), Identity(), 1, rngs=nnx.Rngs(0), top_latent_dim=1, k=k,
                        top_encoder=Affine(0.5, 0.0, math.log(0.5)), top_decoder=Affine(p1_scale, 0.0, 0.0))


EXACT_Q1 = (2 / (2 + S2), 0.0, math.log(2 * S2 / (2 + S2)))
X = np.array([[0.4], [-1.2], [2.5]], np.float32)


def _log_px(x: np.ndarray) -> np.ndarray:
    return -0.5 * (np.log(2 * np.pi * (2 + S2)) + x[:, 0] ** 2 / (2 + S2))


def test_exact_posterior_gives_log_px_for_every_sample() -> None:
    model = _model(EXACT_Q1, k=3)
    log_w = model.log_importance_weights(jnp.asarray(X), 6, key=jax.random.key(2))
    assert log_w.shape == (6, 3)
    np.testing.assert_allclose(log_w, np.broadcast_to(_log_px(X), (6, 3)), atol=1e-5)
    assert float(model.loss_fn(x=jnp.asarray(X))["loss"]) == pytest.approx(float(-_log_px(X).mean()), abs=1e-5)


def test_elbo_terms_match_closed_forms() -> None:
    """q(z1|x) = N(x, 1), q(z2|z1) = N(z1/2, 1/2): each term's Monte Carlo mean against its expectation."""
    x0 = 0.8
    model = _model((1.0, 0.0, 0.0), k=1)
    losses = model.loss_fn(x=jnp.full((60000, 1), x0))
    expected_recon = 0.5 * math.log(2 * math.pi * S2) + 1.0 / (2 * S2)  # -E log N(x; z1, s^2), z1 ~ N(x, 1)
    ez1_sq = x0 * x0 + 1.0
    kl_z2 = 0.5 * (ez1_sq / 4 + 0.5 - 1 - math.log(0.5))  # E_z1 KL(N(z1/2, 1/2) || N(0, 1))
    neg_entropy_q1 = -0.5 * math.log(2 * math.pi * math.e)
    e_log_p1 = -0.5 * math.log(2 * math.pi) - 0.5 * (ez1_sq / 4 + 0.5)  # E log N(z1; z2, 1)
    kl_z1 = neg_entropy_q1 - e_log_p1
    assert float(losses["reconstruction_loss"]) == pytest.approx(expected_recon, abs=0.02)
    assert float(losses["kl_z2"]) == pytest.approx(kl_z2, abs=0.01)
    assert float(losses["kl_z1"]) == pytest.approx(kl_z1, abs=0.02)
    assert float(losses["kl_loss"]) == pytest.approx(float(losses["kl_z1"] + losses["kl_z2"]), rel=1e-6)
    assert float(losses["loss"]) == pytest.approx(expected_recon + kl_z1 + kl_z2, abs=0.03)


def test_shapes_from_the_config() -> None:
    cfg = ModelConfig(model="hierarchical_vae", input_dim=(6,), latent_dim=4, hidden_dims=(8,),
                      parameters={"top_latent_dim": 3, "top_hidden_dims": [5], "k": 2})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    terms = model.log_weight_terms(jnp.ones((7, 6)), 4)
    assert {k: v.shape for k, v in terms.items()} == dict.fromkeys(
        ("log_px_z1", "log_pz1_z2", "log_pz2", "log_qz1", "log_qz2"), (4, 7))
    z1, z2 = model.sample_latents(5)
    assert (z1.shape, z2.shape, model.sample(5).shape) == ((5, 4), (5, 3), (5, 6))


def test_sampling_goes_top_down() -> None:
    """z1 is drawn from p(z1 | z2) = N(3 z2, T^2): at a small temperature z1 = 3 z2."""
    model = _model(EXACT_Q1, p1_scale=3.0)
    z1, z2 = model.sample_latents(200, temperature=1e-3, key=jax.random.key(0))
    np.testing.assert_allclose(z1, 3.0 * z2, atol=1e-2)
    assert float(jnp.std(z2)) < 0.01  # z2 ~ N(0, T^2) too


def test_zoo_metric_reports_the_exact_nll_in_chunks() -> None:
    model = _model(EXACT_Q1)
    bound, elbo = model_log_weight_bounds(model, X, k=7, chunk=3, batch_size=2)
    np.testing.assert_allclose(bound, _log_px(X), atol=1e-5)
    np.testing.assert_allclose(elbo, _log_px(X), atol=1e-5)
    run = SimpleNamespace(model=model)
    figures = ZooIWAE(k=5, chunk=2).compute(run, SimpleNamespace(x_test=X), seed=0)
    assert figures["iwae_nll"] == pytest.approx(float(-_log_px(X).mean()), abs=1e-5) and figures["k"] == 5
    loose = _model((1.0, 0.0, 0.0))
    b1, e1 = model_log_weight_bounds(loose, X, k=200, chunk=50)
    assert np.all(b1 <= _log_px(X) + 0.05) and np.all(e1 < b1)
