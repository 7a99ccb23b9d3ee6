"""BetaVAE's β schedule and BetaVAEWithCapacity's capacity control, checked numerically."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import ModelConfig
from artifex_core import create_model
from artifex_plugins.vae import VAE, BetaVAE, BetaVAEWithCapacity
from artifex_plugins.vae.decoders import MLPDecoder
from artifex_plugins.vae.encoders import MLPEncoder

D, L = 6, 3


def modules(seed=0):
    rngs = nnx.Rngs(seed)
    return MLPEncoder([8], L, input_dim=(D,), rngs=rngs), MLPDecoder([8], (D,), L, rngs=rngs), rngs


def make(cls, seed=0, **kwargs):
    enc, dec, rngs = modules(seed)
    return cls(encoder=enc, decoder=dec, latent_dim=L, rngs=rngs, **kwargs)


X = jax.random.uniform(jax.random.key(1), (4, D))


def test_beta_schedule_at_several_steps():
    model = make(BetaVAE, beta_default=4.0, beta_warmup_steps=100)
    out = model(X)
    for step, expected in [(0, 0.0), (25, 1.0), (50, 2.0), (99, 3.96), (100, 4.0), (5000, 4.0)]:
        losses = model.loss_fn(x=X, outputs=out, step=step)
        np.testing.assert_allclose(losses["beta"], expected, rtol=1e-6)
        np.testing.assert_allclose(
            losses["total_loss"], losses["reconstruction_loss"] + expected * losses["kl_loss"], rtol=1e-6
        )
        np.testing.assert_allclose(model.beta_at(step), expected, rtol=1e-6)


def test_beta_without_step_is_beta_default_even_with_warmup():
    # reference defect: β was 0 when warmup was set and `step` omitted
    model = make(BetaVAE, beta_default=4.0, beta_warmup_steps=100)
    out = model(X)
    losses = model.loss_fn(x=X, outputs=out)
    np.testing.assert_allclose(losses["beta"], 4.0)
    np.testing.assert_allclose(losses["total_loss"], losses["reconstruction_loss"] + 4.0 * losses["kl_loss"], rtol=1e-6)


def test_no_warmup_means_constant_beta_and_beta_override_wins():
    model = make(BetaVAE, beta_default=2.5)
    out = model(X)
    for step in (None, 0, 10):
        np.testing.assert_allclose(model.loss_fn(x=X, outputs=out, step=step)["beta"], 2.5)
    losses = model.loss_fn(x=X, outputs=out, step=3, beta=0.25)
    np.testing.assert_allclose(losses["beta"], 0.25)
    np.testing.assert_allclose(losses["total_loss"], losses["recon_loss"] + 0.25 * losses["kl_loss"], rtol=1e-6)


def test_traced_step_under_jit():
    model = make(BetaVAE, beta_default=4.0, beta_warmup_steps=100)
    f = nnx.jit(lambda m, x, s: m.loss_fn(batch=x, step=s)["beta"])
    assert [float(f(model, X, jnp.asarray(s))) for s in (10, 30, 300)] == pytest.approx([0.4, 1.2, 4.0])


def test_beta_vae_equals_vae_with_kl_weight():
    beta, vae = make(BetaVAE, beta_default=3.0), make(VAE, kl_weight=3.0)
    out = beta(X, rngs=nnx.Rngs(2))
    np.testing.assert_allclose(beta.loss_fn(x=X, outputs=out)["loss"], vae.loss_fn(x=X, outputs=out)["loss"], rtol=1e-6)


@pytest.mark.parametrize("loss_type", ["mse", "bce", "l1"])
def test_registered_reconstruction_losses(loss_type):
    model = make(BetaVAE, reconstruction_loss_type=loss_type)
    assert model.likelihood.name == loss_type
    assert np.isfinite(float(model.loss_fn(x=X)["loss"]))


def test_unknown_loss_and_bad_warmup_fail_at_construction():
    with pytest.raises(ValueError, match="did you mean"):
        make(BetaVAE, reconstruction_loss_type="mseloss")
    with pytest.raises(ValueError, match="beta_warmup_steps"):
        make(BetaVAE, beta_warmup_steps=-1)


# -- capacity ---------------------------------------------------------------------------------------
def test_capacity_schedule_and_loss_terms_at_several_steps():
    model = make(
        BetaVAEWithCapacity, beta_default=4.0, use_capacity_control=True, capacity_max=25.0,
        capacity_num_iter=100, gamma=10.0,
    )
    out = model(X)
    for step, capacity in [(0, 0.0), (10, 2.5), (50, 12.5), (100, 25.0), (1000, 25.0), (None, 25.0)]:
        losses = model.loss_fn(x=X, outputs=out, step=step)
        kl = float(losses["kl_loss"])
        np.testing.assert_allclose(losses["current_capacity"], capacity, rtol=1e-6)
        np.testing.assert_allclose(losses["kl_capacity_diff"], kl - capacity, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(losses["capacity_loss"], 10.0 * abs(kl - capacity), rtol=1e-5)
        np.testing.assert_allclose(
            losses["total_loss"], losses["reconstruction_loss"] + 10.0 * abs(kl - capacity), rtol=1e-5
        )
        np.testing.assert_allclose(losses["loss"], losses["total_loss"])
        np.testing.assert_allclose(model.capacity_at(step), capacity, rtol=1e-6)


def test_capacity_control_off_behaves_as_beta_vae():
    cap = make(BetaVAEWithCapacity, beta_default=4.0, beta_warmup_steps=10)
    beta = make(BetaVAE, beta_default=4.0, beta_warmup_steps=10)
    out = cap(X)
    np.testing.assert_array_equal(out["z"], beta(X)["z"])  # same seed, same stream
    for step in (None, 3, 20):
        a, b = cap.loss_fn(x=X, outputs=out, step=step), beta.loss_fn(x=X, outputs=out, step=step)
        for key in b:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-6)
        assert {"current_capacity", "capacity_loss", "kl_capacity_diff"} <= set(a)


def test_capacity_gradient_pushes_kl_towards_capacity():
    model = make(BetaVAEWithCapacity, use_capacity_control=True, capacity_max=25.0, gamma=1.0)
    out = model(X)
    losses = model.loss_fn(x=X, outputs=out)
    assert float(losses["kl_capacity_diff"]) < 0  # a fresh model's KL is far below 25 nats
    grad = jax.grad(lambda o: model.loss_fn(x=X, outputs=o)["loss"])(out)
    # d/d(mean) of gamma*|KL - C| with KL < C is -gamma * mean / B
    np.testing.assert_allclose(grad["mean"], -out["mean"] / X.shape[0], rtol=1e-4, atol=1e-6)


def test_capacity_parameter_validation():
    with pytest.raises(ValueError, match="capacity_num_iter"):
        make(BetaVAEWithCapacity, capacity_num_iter=0)


def test_factory_builds_capacity_model_for_capacity_config():
    # reference defect: the factory silently built a BetaVAE for a capacity config
    cfg = ModelConfig(model="beta_vae_capacity", input_dim=(D,), latent_dim=L, hidden_dims=(8,),
                      parameters={"use_capacity_control": True, "capacity_max": 5.0, "gamma": 2.0})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert type(model) is BetaVAEWithCapacity
    assert model.use_capacity_control and model.capacity_max == 5.0 and model.gamma == 2.0
    losses = model.loss_fn(x=X, step=1)
    assert {"current_capacity", "capacity_loss", "kl_capacity_diff", "beta"} <= set(losses)
    default = create_model(ModelConfig(model="beta_vae_capacity", input_dim=(D,), latent_dim=L, hidden_dims=(8,)),
                           rngs=nnx.Rngs(0))
    assert type(default) is BetaVAEWithCapacity and "capacity_loss" in default.loss_fn(x=X)
