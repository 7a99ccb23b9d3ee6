"""The ``elbo`` metric: the ELBO against its closed-form parts and the model's own loss, bits per dimension."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import ModelConfig
from artifex_core.evaluation import EvalData, loss_terms
from artifex_core import create_model
from artifex_plugins.metrics import ELBO, bits_per_dim, model_elbo

SHAPE = (4, 4, 1)


def _model(model: str = "vae", loss: str = "bce", shape: tuple[int, ...] = SHAPE, **parameters: Any) -> Any:
    config = ModelConfig(model=model, input_dim=list(shape), latent_dim=3, hidden_dims=[16],
                         parameters={"reconstruction_loss_type": loss, **parameters})
    built = create_model(config, rngs=nnx.Rngs(0))
    built.eval()
    return built


def _run(model: Any) -> SimpleNamespace:
    return SimpleNamespace(model=model, model_config=SimpleNamespace(conditional=False))


def _x(n: int = 300, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((n, *shape)) < 0.3).astype(np.float32)


def test_bits_per_dim_closed_form() -> None:
    assert bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)
    assert bits_per_dim(10.0, 5) == pytest.approx(2.0 / math.log(2.0))
    with pytest.raises(ValueError, match="dims must be >= 1, got 0"):
        bits_per_dim(1.0, 0)


def test_the_kl_is_the_closed_form_of_the_encoders_posterior() -> None:
    model, x = _model(), _x(50)
    _, kl = model_elbo(model, x, seed=0)
    mean, log_var = (np.asarray(a, np.float64) for a in tuple(model.encode(jnp.asarray(x)))[:2])
    expected = 0.5 * (mean**2 + np.exp(log_var) - 1.0 - log_var).sum(axis=-1)
    np.testing.assert_allclose(kl, expected, rtol=1e-5, atol=1e-6)


def test_a_beta_one_vae_elbo_is_its_test_loss_and_a_beta_vae_is_not() -> None:
    x = _x()
    plain = _model()
    figures = ELBO(samples=32).compute(_run(plain), EvalData(x, None, None), seed=0)
    terms = loss_terms(plain, x, None, conditional=False)
    assert figures["neg_elbo"] == -figures["elbo"] and figures["kl"] == pytest.approx(terms["kl_loss"], rel=1e-4)
    assert figures["neg_elbo"] == pytest.approx(terms["loss"], rel=0.01)  # up to Monte Carlo noise
    assert figures["log_likelihood"] == pytest.approx(-terms["reconstruction_loss"], rel=0.01)

    beta = _model("beta_vae", beta_default=4.0)
    bfig = ELBO(samples=32).compute(_run(beta), EvalData(x, None, None), seed=0)
    bterms = loss_terms(beta, x, None, conditional=False)
    assert bterms["loss"] == pytest.approx(bterms["reconstruction_loss"] + 4.0 * bterms["kl_loss"], rel=1e-4)
    assert bfig["neg_elbo"] == pytest.approx(bterms["reconstruction_loss"] + bterms["kl_loss"], rel=0.01)
    assert bfig["neg_elbo"] < bterms["loss"]  # the bound weighs the KL once


def test_bits_per_dim_only_for_a_normalised_likelihood_on_images() -> None:
    x = _x()
    figures = ELBO().compute(_run(_model()), EvalData(x, None, None), seed=0)
    assert figures["normalized_likelihood"] is True
    assert figures["bits_per_dim"] == pytest.approx(figures["neg_elbo"] / (16 * math.log(2.0)))
    mse = ELBO().compute(_run(_model(loss="mse")), EvalData(x, None, None), seed=0)
    assert mse["normalized_likelihood"] is False and "bits_per_dim" not in mse
    flat = ELBO().compute(_run(_model(shape=(16,))), EvalData(x.reshape(len(x), 16), None, None), seed=0)
    assert "bits_per_dim" not in flat and np.isfinite(flat["elbo"])  # vectors, not images


def test_seeded_applies_and_options() -> None:
    model, x = _model(), _x(64)
    one = ELBO().compute(_run(model), EvalData(x, None, None), seed=3)
    assert ELBO().compute(_run(model), EvalData(x, None, None), seed=3) == one
    assert ELBO().compute(_run(model), EvalData(x, None, None), seed=4)["elbo"] != one["elbo"]
    small = ELBO(batch_size=7).compute(_run(model), EvalData(x, None, None), seed=3)
    assert small["kl"] == pytest.approx(one["kl"], rel=1e-5)  # batching does not change the closed form
    assert ELBO().applies(_run(model)) and not ELBO().applies(_run(_model("vqvae", loss="mse", embedding_dim=3)))
    with pytest.raises(ValueError, match="samples must be >= 1, got 0"):
        ELBO(samples=0)
