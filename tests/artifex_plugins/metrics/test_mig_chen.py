"""Chen et al.'s MIG estimator: copied factors ~1, independent latents ~0, a hand-computed case, entropies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artifex_plugins.metrics import mig, mig_chen, mig_chen_details
from artifex_plugins.metrics._mig_chen import estimate_entropies

N = 3000


def _factors(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, 5, N), rng.integers(0, 8, N)], axis=1)


def test_a_latent_copying_each_factor_scores_near_one_for_both_estimators() -> None:
    f = _factors()
    rng = np.random.default_rng(1)
    means = np.stack([f[:, 1], 0.3 * rng.normal(size=N), f[:, 0]], axis=1).astype(float)  # one ignores both
    log_vars = np.full(means.shape, np.log(0.01**2))
    log_vars[:, 1] = np.log(0.5)  # a latent near its prior, as an unused VAE latent is
    details = mig_chen_details(means, log_vars, f)
    assert details["mig"] > 0.97
    np.testing.assert_allclose(details["mutual_information"][2, 0], details["entropy"][0], rtol=0.03)
    assert mig(means, f) > 0.95


def test_independent_latents_score_near_zero_for_both_estimators() -> None:
    f = _factors()
    rng = np.random.default_rng(2)
    means = rng.normal(size=(N, 4))
    assert mig_chen(means, np.zeros((N, 4)), f) < 0.03
    assert mig(means, f) < 0.05


def test_a_hand_computed_case() -> None:
    # two examples, one binary factor; latent 0 moves with it (means 0 and 1), latent 1 does not
    means = np.array([[0.0, 0.0], [1.0, 0.0]])
    log_vars = np.zeros((2, 2))  # unit variances
    factors = np.array([[0], [1]])
    details = mig_chen_details(means, log_vars, factors, samples=means)  # samples at the means
    phi0, phi1 = 1 / math.sqrt(2 * math.pi), math.exp(-0.5) / math.sqrt(2 * math.pi)
    h0 = -math.log(0.5 * (phi0 + phi1))  # each sample sees both components: q = (phi(0) + phi(1)) / 2
    np.testing.assert_allclose(details["marginal_entropy"], [h0, -math.log(phi0)], rtol=1e-12)
    np.testing.assert_allclose(details["conditional_entropy"][:, 0], [-math.log(phi0)] * 2, rtol=1e-12)
    expected = math.log(2 / (1 + math.exp(-0.5))) / math.log(2)  # I(z0; v) / H(v), minus I(z1; v) = 0
    assert details["mig"] == pytest.approx(expected, rel=1e-12)
    sized = mig_chen_details(means, log_vars, factors, samples=means, factor_sizes=[4])  # normalised by log 4
    assert sized["mig"] == pytest.approx(expected * math.log(2) / math.log(4), rel=1e-12)


def test_entropy_of_a_single_gaussian_matches_its_closed_form() -> None:
    rng = np.random.default_rng(0)
    sigma = np.array([0.5, 2.0])
    samples = rng.normal(size=(20000, 2)) * sigma
    h = estimate_entropies(samples, np.zeros((1, 2)), np.log(sigma**2)[None])
    np.testing.assert_allclose(h, 0.5 * np.log(2 * np.pi * np.e * sigma**2), atol=0.02)


def test_errors_name_the_shapes() -> None:
    f = _factors()
    with pytest.raises(ValueError, match=r"means must have shape \(N, D >= 2\)"):
        mig_chen(np.zeros((N, 1)), np.zeros((N, 1)), f)
    with pytest.raises(ValueError, match="log_vars must have the shape of means"):
        mig_chen(np.zeros((N, 2)), np.zeros((N, 3)), f)
    with pytest.raises(ValueError, match="no factor varies"):
        mig_chen(np.zeros((N, 2)), np.zeros((N, 2)), np.zeros((N, 1), int))
    with pytest.raises(ValueError, match="factor_sizes must give one size >= 1 per factor"):
        mig_chen_details(np.zeros((N, 2)), np.zeros((N, 2)), f, factor_sizes=[3])
