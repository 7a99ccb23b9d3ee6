"""DIP-VAE's covariance penalties on given means and log-variances; the MMD and InfoVAE's objective."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import ModelConfig, create_model
from artifex_zoo import DIPVAE, InfoVAE, dip_covariance, dip_penalties, kernel_matrix, mmd_unbiased

MU = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0], [-1.0, 1.0, 1.0], [0.0, -1.0, 2.0]], np.float32)
LV = np.log(np.array([[0.5, 1.0, 2.0], [1.5, 1.0, 2.0], [0.5, 3.0, 2.0], [1.5, 1.0, 2.0]], np.float32))


def test_covariances_of_type_i_and_ii() -> None:
    cov_mu = np.cov(MU, rowvar=False, bias=True)
    np.testing.assert_allclose(dip_covariance(jnp.asarray(MU), jnp.asarray(LV), "i"), cov_mu, rtol=1e-5, atol=1e-6)
    expected_ii = cov_mu + np.diag(np.exp(LV).mean(0))  # E[Sigma] + Cov[mu]
    np.testing.assert_allclose(dip_covariance(jnp.asarray(MU), jnp.asarray(LV), "ii"), expected_ii, rtol=1e-5)
    with pytest.raises(ValueError, match=r"dip_type must be one of \('i', 'ii'\), got 'iii'"):
        dip_covariance(jnp.asarray(MU), jnp.asarray(LV), "iii")


def test_penalties_by_hand() -> None:
    cov = jnp.array([[2.0, 0.5, -1.0], [0.5, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    off, diag = dip_penalties(cov)
    assert float(off) == pytest.approx(2 * (0.25 + 1.0))
    assert float(diag) == pytest.approx(1.0 + 0.0 + 1.0)


def _dip(dip_type: str) -> DIPVAE:
    cfg = ModelConfig(model="dip_vae", input_dim=(4,), latent_dim=3, hidden_dims=(8,),
                      parameters={"dip_type": dip_type, "lambda_od": 2.0, "lambda_d": 5.0})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert isinstance(model, DIPVAE)
    return model


@pytest.mark.parametrize("dip_type", ["i", "ii"])
def test_loss_adds_the_weighted_penalties(dip_type: str) -> None:
    model = _dip(dip_type)
    x = jnp.full((4, 4), 0.5)
    outputs = {"mean": jnp.asarray(MU), "log_var": jnp.asarray(LV), "logvar": jnp.asarray(LV),
               "z": jnp.asarray(MU), "reconstructed": jnp.zeros((4, 4)), "reconstruction": jnp.zeros((4, 4))}
    losses = model.loss_fn(x=x, outputs=outputs)
    off, diag = dip_penalties(dip_covariance(jnp.asarray(MU), jnp.asarray(LV), dip_type))
    kl = 0.5 * np.mean(np.sum(MU ** 2 + np.exp(LV) - 1 - LV, axis=1))
    assert float(losses["kl_loss"]) == pytest.approx(kl, rel=1e-5)
    expected = float(losses["reconstruction_loss"]) + kl + 2.0 * float(off) + 5.0 * float(diag)
    assert float(losses["loss"]) == pytest.approx(expected, rel=1e-5)
    assert float(losses["dip_off_diagonal"]) == pytest.approx(float(off))


def test_mmd_of_identical_samples_is_the_unbiased_estimators_known_value() -> None:
    """X = Y: MMD_u^2 = -2 (1 - A) / n, A the mean off-diagonal kernel value."""
    x = jax.random.normal(jax.random.key(0), (50, 3))
    for kernel in ("rbf", "imq"):
        k = np.asarray(kernel_matrix(x, x, kernel, 6.0), np.float64)
        a = (k.sum() - np.trace(k)) / (50 * 49)
        assert float(mmd_unbiased(x, x, kernel, scale=6.0)) == pytest.approx(-2 * (1 - a) / 50, rel=1e-4)


def test_mmd_of_shifted_gaussians_matches_the_rbf_closed_form() -> None:
    """P = N(0, s^2 I), Q = N(delta, s^2 I), kernel exp(-||a - b||^2 / C) = exp(-||.||^2 / (2 l^2)), l^2 = C/2:
    MMD^2 = 2 (l^2 / (l^2 + 2 s^2))^(D/2) (1 - exp(-||delta||^2 / (2 (l^2 + 2 s^2))))."""
    d, s2, scale = 2, 0.5, 2.0
    delta = jnp.array([1.0, -0.5])
    l2 = scale / 2
    closed = 2 * (l2 / (l2 + 2 * s2)) ** (d / 2) * (1 - math.exp(-float(delta @ delta) / (2 * (l2 + 2 * s2))))
    estimates = []
    for seed in range(6):  # one estimate of 3000 + 3000 samples has a standard deviation of about 0.009
        kx, ky = jax.random.split(jax.random.key(seed))
        x = math.sqrt(s2) * jax.random.normal(kx, (3000, d))
        y = delta + math.sqrt(s2) * jax.random.normal(ky, (3000, d))
        estimates.append(float(mmd_unbiased(x, y, "rbf", scale=scale)))
    assert np.mean(estimates) == pytest.approx(closed, abs=0.012)


def test_mmd_input_checks() -> None:
    with pytest.raises(ValueError, match="at least 2 samples on each side, got 1 and 3"):
        mmd_unbiased(jnp.zeros((1, 2)), jnp.zeros((3, 2)), "rbf", scale=1.0)
    with pytest.raises(ValueError, match=r"kernel must be one of \('rbf', 'imq'\), got 'gauss'"):
        kernel_matrix(jnp.zeros((2, 2)), jnp.zeros((2, 2)), "gauss", 1.0)


def _info(alpha: float, lambda_: float) -> InfoVAE:
    cfg = ModelConfig(model="info_vae", input_dim=(4,), latent_dim=3, hidden_dims=(8,),
                      parameters={"alpha": alpha, "lambda_": lambda_, "kernel": "rbf", "kernel_bandwidth": 0.5})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert isinstance(model, InfoVAE)
    return model


@pytest.mark.parametrize("alpha, lambda_", [(0.0, 10.0), (1.0, 5.0), (0.5, 2.0)])
def test_info_vae_weights(alpha: float, lambda_: float) -> None:
    model = _info(alpha, lambda_)
    assert model.kernel_scale == pytest.approx(2 * 3 * 0.25)
    losses = model.loss_fn(x=jnp.full((8, 4), 0.3))
    expected = losses["reconstruction_loss"] + (1 - alpha) * losses["kl_loss"] + (alpha + lambda_ - 1) * losses["mmd_loss"]
    assert float(losses["loss"]) == pytest.approx(float(expected), rel=1e-5)


def test_info_vae_checks() -> None:
    with pytest.raises(ValueError, match=r"the MMD weight alpha \+ lambda_ - 1 must be >= 0, got -0.5"):
        _info(0.0, 0.5)
    with pytest.raises(ValueError, match="parameters.alpha"):
        ModelConfig(model="info_vae", parameters={"alpha": 2.0})
