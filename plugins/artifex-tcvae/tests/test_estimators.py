"""The MWS decomposition: the telescoping identity, closed forms, and what TC measures."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import norm

from artifex_tcvae.estimators import gaussian_log_density
from artifex_tcvae.estimators import mws_decomposition as _mws

# One compilation per shape instead of op-by-op dispatch keeps this file fast.
mws_decomposition = jax.jit(_mws, static_argnames="dataset_size")

TERMS = ("index_code_mi", "total_correlation", "dimension_wise_kl")


def _posteriors(key: jax.Array, batch: int, dim: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    k1, k2, k3 = jax.random.split(key, 3)
    mean = jax.random.normal(k1, (batch, dim))
    log_var = jax.random.uniform(k2, (batch, dim), minval=-3.0, maxval=1.0)
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(k3, (batch, dim))
    return z, mean, log_var


def test_gaussian_log_density_matches_scipy() -> None:
    z, mean, log_var = _posteriors(jax.random.key(0), 5, 3)
    expected = norm.logpdf(z, mean, jnp.exp(0.5 * log_var))
    np.testing.assert_allclose(gaussian_log_density(z, mean, log_var), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dataset_size", [None, 7, 60000, 737280])
def test_terms_telescope_to_the_kl_estimate(dataset_size: int | None) -> None:
    """MI + TC + DWKL = mean_i [log q(z_i|x_i) - log p(z_i)], the estimator's own identity."""
    z, mean, log_var = _posteriors(jax.random.key(1), 16, 5)
    terms = mws_decomposition(z, mean, log_var, dataset_size)
    log_q = norm.logpdf(z, mean, jnp.exp(0.5 * log_var)).sum(-1)
    log_p = norm.logpdf(z).sum(-1)
    expected = float(jnp.mean(log_q - log_p))
    total = sum(float(terms[t]) for t in TERMS)
    assert total == pytest.approx(expected, abs=1e-3)
    assert all(math.isfinite(float(terms[t])) for t in TERMS)


def test_sum_estimates_the_analytic_kl() -> None:
    """Over many samples the telescoped sum is an unbiased estimate of E[KL(q(z|x) || p(z))]."""
    batch, dim, reps = 256, 3, 16
    key = jax.random.key(2)
    _, mean, log_var = _posteriors(key, batch, dim)
    analytic = float(jnp.mean(-0.5 * jnp.sum(1 + log_var - mean**2 - jnp.exp(log_var), axis=-1)))
    estimates = []
    for k in jax.random.split(jax.random.key(3), reps):
        z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(k, mean.shape)
        terms = mws_decomposition(z, mean, log_var, dataset_size=10_000)
        estimates.append(sum(float(terms[t]) for t in TERMS))
    estimates = np.asarray(estimates)
    stderr = estimates.std(ddof=1) / math.sqrt(reps)
    assert abs(estimates.mean() - analytic) < 4 * stderr + 1e-3


def test_identical_posteriors_closed_form() -> None:
    """All q(z|x_j) equal: log q(z_i) = log q(z_i|x) - log N, so MI = log N and TC = (D - 1) log N."""
    batch, dim, n = 6, 4, 1000
    mean = jnp.broadcast_to(jnp.array([0.3, -1.0, 2.0, 0.0]), (batch, dim))
    log_var = jnp.broadcast_to(jnp.array([-1.0, 0.0, 0.5, -2.0]), (batch, dim))
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(jax.random.key(4), (batch, dim))
    terms = mws_decomposition(z, mean, log_var, dataset_size=n)
    assert float(terms["index_code_mi"]) == pytest.approx(math.log(n), abs=1e-4)
    assert float(terms["total_correlation"]) == pytest.approx((dim - 1) * math.log(n), abs=1e-3)


def test_one_latent_dimension_has_zero_total_correlation() -> None:
    z, mean, log_var = _posteriors(jax.random.key(5), 12, 1)
    terms = mws_decomposition(z, mean, log_var, dataset_size=500)
    assert float(terms["total_correlation"]) == pytest.approx(0.0, abs=1e-5)


def test_default_dataset_size_is_the_batch() -> None:
    z, mean, log_var = _posteriors(jax.random.key(6), 9, 3)
    a = mws_decomposition(z, mean, log_var)
    b = mws_decomposition(z, mean, log_var, dataset_size=9)
    assert all(float(a[t]) == pytest.approx(float(b[t]), abs=1e-6) for t in TERMS)


def test_total_correlation_is_higher_for_dependent_codes() -> None:
    """Codes whose dimensions move together have a larger TC than codes drawn independently per dimension."""
    batch, dim = 128, 4
    k1, k2, k3 = jax.random.split(jax.random.key(7), 3)
    log_var = jnp.full((batch, dim), -4.0)
    independent = jax.random.normal(k1, (batch, dim))
    dependent = jnp.repeat(jax.random.normal(k2, (batch, 1)), dim, axis=1)
    eps = jnp.exp(0.5 * log_var) * jax.random.normal(k3, (batch, dim))
    tc_ind = float(mws_decomposition(independent + eps, independent, log_var, 10_000)["total_correlation"])
    tc_dep = float(mws_decomposition(dependent + eps, dependent, log_var, 10_000)["total_correlation"])
    assert tc_ind >= -1e-4
    assert tc_dep > tc_ind + 1.0


def test_spatial_latents_are_flattened() -> None:
    z, mean, log_var = _posteriors(jax.random.key(8), 4, 6)
    flat = mws_decomposition(z, mean, log_var, 100)
    spatial = mws_decomposition(z.reshape(4, 2, 3), mean.reshape(4, 2, 3), log_var.reshape(4, 2, 3), 100)
    assert all(float(flat[t]) == pytest.approx(float(spatial[t]), abs=1e-5) for t in TERMS)


def test_bad_arguments_are_rejected() -> None:
    z, mean, log_var = _posteriors(jax.random.key(9), 4, 2)
    with pytest.raises(ValueError, match="share a shape"):
        _mws(z, mean[:, :1], log_var)
    with pytest.raises(ValueError, match="dataset_size must be a positive integer"):
        _mws(z, mean, log_var, dataset_size=0)
