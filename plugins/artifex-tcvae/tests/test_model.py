"""BetaTCVAE's loss: the decomposition inside ``loss_fn``, the weights, and a training step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
import pytest
from flax import nnx

from artifex_core import ModelConfig, create_model
from artifex_tcvae import BetaTCVAE
from artifex_tcvae.estimators import mws_decomposition

TERMS = ("index_code_mi", "total_correlation", "dimension_wise_kl")
N = 5000


def _model(**parameters: object) -> BetaTCVAE:
    params = {"dataset_size": N, **parameters}
    cfg = ModelConfig(model="tcvae", input_dim=(12,), latent_dim=3, hidden_dims=(16,), parameters=params)
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert isinstance(model, BetaTCVAE)
    return model


@pytest.fixture(scope="module")
def data() -> jax.Array:
    return jax.random.uniform(jax.random.key(0), (16, 12))


@nnx.jit(static_argnames=("beta",))
def _losses(model: BetaTCVAE, x: jax.Array, key: jax.Array, beta: float | None = None) -> dict[str, jax.Array]:
    return model.loss_fn(x=x, rng=key, beta=beta)


def test_paper_defaults() -> None:
    model = _model()
    assert (model.alpha, model.beta, model.gamma, model.dataset_size) == (1.0, 6.0, 1.0, N)


def test_loss_terms_finite_and_weighted(data: jax.Array) -> None:
    model = _model(alpha=0.5, beta=6.0, gamma=2.0)
    losses = _losses(model, data, jax.random.key(1))
    assert all(bool(jnp.isfinite(v)) for v in losses.values())
    assert float(losses["total_correlation"]) >= -1e-4
    expected = (
        losses["reconstruction_loss"]
        + 0.5 * losses["index_code_mi"]
        + 6.0 * losses["total_correlation"]
        + 2.0 * losses["dimension_wise_kl"]
    )
    assert float(losses["total_loss"]) == pytest.approx(float(expected), rel=1e-5)
    assert float(losses["loss"]) == float(losses["total_loss"])
    assert float(losses["recon_loss"]) == float(losses["reconstruction_loss"])


def test_terms_come_from_the_forward_pass(data: jax.Array) -> None:
    """loss_fn(outputs=...) decomposes exactly those latents; the sum telescopes to the KL estimate."""
    model = _model()
    outputs = model(data, rngs=nnx.Rngs(sample=3))
    losses = model.loss_fn(x=data, outputs=outputs)
    expected = mws_decomposition(outputs["z"], outputs["mean"], outputs["log_var"], N)
    for term in TERMS:
        assert float(losses[term]) == pytest.approx(float(expected[term]), abs=1e-5)
    log_var = outputs["log_var"]
    log_q = -0.5 * (jnp.log(2 * jnp.pi) + log_var + (outputs["z"] - outputs["mean"]) ** 2 / jnp.exp(log_var))
    log_p = -0.5 * (jnp.log(2 * jnp.pi) + outputs["z"] ** 2)
    kl_estimate = float(jnp.mean(jnp.sum(log_q - log_p, axis=-1)))
    assert sum(float(losses[t]) for t in TERMS) == pytest.approx(kl_estimate, abs=1e-3)


def test_beta_argument_and_dataset_size_override(data: jax.Array) -> None:
    model = _model(beta=6.0)
    key = jax.random.key(2)
    base = _losses(model, data, key)
    swapped = _losses(model, data, key, beta=1.0)
    diff = float(base["total_loss"] - swapped["total_loss"])
    assert diff == pytest.approx(5.0 * float(base["total_correlation"]), rel=1e-4)
    small = model.loss_fn(x=data, rng=key, dataset_size=16)
    # TC gains (D - 1) log(N) - (D - 1) log(16) only through the constant; MI gains log(N / 16).
    assert float(base["index_code_mi"] - small["index_code_mi"]) == pytest.approx(float(jnp.log(N / 16)), abs=1e-3)


def test_rejects_bad_weights() -> None:
    model = _model()
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        BetaTCVAE(model.encoder, model.decoder, 3, beta=float("nan"), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="dataset_size must be a positive integer"):
        BetaTCVAE(model.encoder, model.decoder, 3, dataset_size=0, rngs=nnx.Rngs(0))


def test_a_training_step_lowers_the_loss(data: jax.Array) -> None:
    model = _model()
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    key = jax.random.key(4)

    @nnx.jit
    def step(model: BetaTCVAE, optimizer: nnx.Optimizer) -> jax.Array:
        def loss(model: BetaTCVAE) -> jax.Array:
            return model.loss_fn(x=data, rng=key)["loss"]

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    first = float(step(model, optimizer))
    for _ in range(15):
        last = float(step(model, optimizer))
    after = float(_losses(model, data, key)["loss"])
    assert after < first - 1.0, (first, last, after)


def test_loss_fn_decodes_once_and_scores_that_decode(data: jax.Array) -> None:
    """Under "bce" the reconstruction term is scored on the forward pass's own logits: one decoder call."""
    model = _model(reconstruction_loss_type="bce")
    calls: list[jax.Array] = []
    decoder_call = type(model.decoder).__call__

    def counting(self: nnx.Module, z: jax.Array, *args: object, **kwargs: object) -> jax.Array:
        raw = decoder_call(self, z, *args, **kwargs)
        calls.append(raw)
        return raw

    key = jax.random.key(5)
    type(model.decoder).__call__ = counting  # type: ignore[method-assign]
    try:
        losses = model.loss_fn(x=data, rng=key)
    finally:
        type(model.decoder).__call__ = decoder_call  # type: ignore[method-assign]
    assert len(calls) == 1
    logits, x = calls[0], data
    bce = jnp.mean(jnp.sum(jnp.logaddexp(0.0, logits) - x * logits, axis=-1))
    assert float(losses["reconstruction_loss"]) == pytest.approx(float(bce), rel=1e-5)
    assert float(losses["recon_loss"]) == float(losses["reconstruction_loss"])
