"""MIG and the FactorVAE metric on synthetic codes whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artifex_plugins.metrics import (
    discrete_entropy,
    discrete_mutual_information,
    discretize,
    factor_vae_details,
    factor_vae_score,
    mig,
    mig_details,
    mig_gaps,
)

SIZES = (3, 6, 10, 8)  # every factor has at most 20 values, so 20 bins can resolve it
N = 10_000


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    return np.random.default_rng(0).integers(0, SIZES, size=(N, len(SIZES)))


def factorised_codes(f: np.ndarray, rng: np.random.Generator, extra_noise_dims: int = 0) -> np.ndarray:
    """Latent j is a (different) strictly monotone function of one factor, in shuffled order."""
    transforms = [lambda v: 2.0 * v - 1.0, lambda v: np.exp(0.3 * v), lambda v: -np.sqrt(v + 1.0), lambda v: v**1.5]
    cols = [transforms[k](f[:, k].astype(float)) for k in range(f.shape[1])]
    cols += [1e-3 * rng.normal(size=len(f)) for _ in range(extra_noise_dims)]
    codes = np.stack(cols, axis=1)
    return codes[:, rng.permutation(codes.shape[1])]


def test_discretize_equal_width_bins():
    codes = np.array([[0.0, 5.0], [0.49, 5.0], [0.5, 5.0], [1.0, 5.0]])
    np.testing.assert_array_equal(discretize(codes, 2), [[0, 0], [0, 0], [1, 0], [1, 0]])  # constant -> bin 0
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        discretize(np.zeros(3))


def test_entropy_and_mutual_information_closed_forms():
    a = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    b = np.array([0, 1, 0, 1, 0, 1, 0, 1])  # independent of a
    assert discrete_entropy(a[:, None])[0] == pytest.approx(math.log(4))
    mi = discrete_mutual_information(np.stack([a, a // 2], 1), np.stack([a, b], 1))
    np.testing.assert_allclose(mi, [[math.log(4), 0.0], [math.log(2), 0.0]], atol=1e-12)


def test_perfectly_factorised_codes_score_near_one(factors):
    codes = factorised_codes(factors, np.random.default_rng(1), extra_noise_dims=2)
    details = mig_details(codes, factors)
    assert details["mig"] > 0.95
    assert details["mutual_information"].shape == (len(SIZES) + 2, len(SIZES))
    assert np.all(details["per_factor"] > 0.9)


def test_random_codes_score_near_zero(factors):
    codes = np.random.default_rng(2).normal(size=(N, 6))
    assert mig(codes, factors) < 0.05


def test_a_factor_encoded_twice_has_no_gap(factors):
    # two latents carry the same factor: top two MIs are equal, so that factor's gap is 0
    f0 = factors[:, 0].astype(float)
    codes = np.stack([f0, 3 * f0 + 1, factors[:, 1].astype(float)], axis=1)
    gaps = mig_details(codes, factors[:, :2])["per_factor"]
    assert gaps[0] == pytest.approx(0.0, abs=1e-9)
    assert gaps[1] > 0.95
    assert mig(codes, factors[:, :2]) == pytest.approx(gaps[1] / 2)


def test_entangled_codes_score_below_factorised(factors):
    hadamard = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2
    entangled = (factors / np.asarray(SIZES)) @ hadamard  # every latent mixes all factors equally
    assert mig(entangled, factors) < 0.05
    assert mig(factorised_codes(factors, np.random.default_rng(3)), factors) > 0.95


def test_constant_factors_are_not_scored(factors):
    with_constant = np.concatenate([factors, np.zeros((N, 1), int)], axis=1)
    codes = factorised_codes(factors, np.random.default_rng(4))
    details = mig_details(codes, with_constant)
    assert not details["scored"][-1] and np.isnan(details["per_factor"][-1])
    assert details["mig"] == pytest.approx(mig(codes, factors))
    with pytest.raises(ValueError, match="no factor varies"):
        mig(codes, np.zeros((N, 2), int))
    with pytest.raises(ValueError, match="D >= 2"):
        mig(codes[:, :1], factors)


def test_factor_vae_perfect_codes_score_one():
    sizes = (3, 6, 10, 8)

    def representation(f):  # latent k is a monotone function of factor k, plus two collapsed dims
        return np.concatenate([np.exp(0.2 * f), np.zeros((len(f), 2))], axis=1)

    details = factor_vae_details(representation, sizes, num_train=200, num_eval=200, num_variance_estimate=2000)
    assert details["eval_accuracy"] == 1.0 and details["train_accuracy"] == 1.0
    assert details["num_active_dims"] == 4  # the collapsed dims were pruned


def test_factor_vae_random_codes_score_chance():
    sizes = (3, 6, 10, 8)
    rng = np.random.default_rng(6)
    score = factor_vae_score(lambda f: rng.normal(size=(len(f), 5)), sizes, num_train=300, num_eval=300,
                             num_variance_estimate=2000)
    assert score < 1 / len(sizes) + 0.12  # chance is 1 / K


def test_factor_vae_fully_collapsed_codes_score_zero():
    details = factor_vae_details(lambda f: np.zeros((len(f), 3)), (2, 3), num_train=5, num_eval=5,
                                 num_variance_estimate=100)
    assert details["eval_accuracy"] == 0.0 and details["num_active_dims"] == 0
    with pytest.raises(ValueError, match="at least one factor > 1"):
        factor_vae_score(lambda f: f, (1, 1))


def test_mig_gaps_by_hand():
    # factor 0: I = (0.9, 0.3, 0.6) -> gap (0.9 - 0.6) / 1.5; factor 1: (0.2, 0.7, 0.7) -> a tie, gap 0;
    # factor 2: constant (H = 0), not scored.
    mi = np.array([[0.9, 0.2, 5.0], [0.3, 0.7, 4.0], [0.6, 0.7, 0.0]])
    score, gaps = mig_gaps(mi, np.array([1.5, math.log(3), 0.0]))
    assert gaps[0] == pytest.approx(0.2) and gaps[1] == 0.0 and np.isnan(gaps[2])
    assert score == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no factor varies across the examples"):
        mig_gaps(mi, np.zeros(3))


def test_both_mig_estimators_end_in_mig_gaps(factors):
    from artifex_plugins.metrics import mig_chen_details

    codes = factorised_codes(factors[:2000], np.random.default_rng(5))
    for details in (mig_details(codes, factors[:2000]),
                    mig_chen_details(codes, np.full(codes.shape, -2.0), factors[:2000], num_samples=500)):
        score, gaps = mig_gaps(details["mutual_information"], details["entropy"])
        assert score == details["mig"]
        np.testing.assert_array_equal(gaps, details["per_factor"])
