"""Active units on synthetic posterior means; VQ metrics against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artifex_plugins.metrics import active_units, encode_means, latent_variances
from artifex_plugins.metrics import code_counts, codes_used, normalized_mse, perplexity


def test_active_units_counts_dimensions_whose_mean_varies_above_threshold():
    rng = np.random.default_rng(0)
    n = 5000
    means = np.stack(
        [
            rng.normal(0, 1.0, n),  # variance 1: active
            rng.normal(0, 0.3, n),  # variance 0.09: active
            rng.normal(0, 0.05, n),  # variance 0.0025: inactive at 0.01
            np.full(n, 2.0),  # collapsed: a constant mean
        ],
        axis=1,
    )
    assert active_units(means) == 2
    assert active_units(means, threshold=0.001) == 3
    assert active_units(means, threshold=2.0) == 0
    np.testing.assert_allclose(latent_variances(means), [1.0, 0.09, 0.0025, 0.0], rtol=0.1, atol=1e-12)


def test_active_units_flattens_spatial_latents():
    rng = np.random.default_rng(1)
    means = np.zeros((100, 2, 2, 3))
    means[:, 0, 1, 2] = rng.normal(size=100)
    assert active_units(means) == 1


def test_latent_variances_needs_two_examples():
    with pytest.raises(ValueError, match=r"\(N >= 2, D\)"):
        latent_variances(np.zeros((1, 3)))


def test_encode_means_batches_and_passes_conditions():
    x = np.arange(7.0)[:, None]
    y = np.arange(7.0)
    calls = []

    def encode(xb, yb):
        calls.append(len(xb))
        return xb + yb[:, None], np.zeros_like(xb)

    np.testing.assert_array_equal(encode_means(encode, x, batch_size=3, condition=y)[:, 0], 2 * np.arange(7.0))
    assert calls == [3, 3, 1]


def test_perplexity_closed_forms():
    k = 16
    assert perplexity(np.arange(k), k) == pytest.approx(k)  # uniform usage -> K
    assert perplexity(np.tile(np.arange(4), 25), k) == pytest.approx(4)  # uniform over 4 of 16 codes
    assert perplexity(np.full(10, 3), k) == pytest.approx(1.0)  # one code
    # p = (1/2, 1/4, 1/4): H = 1.5 log 2, perplexity 2 ** 1.5
    assert perplexity(np.array([[0, 0], [1, 2]]), k) == pytest.approx(2**1.5)


def test_code_counts_and_codes_used():
    idx = np.array([[0, 5, 5], [5, 2, 0]])
    np.testing.assert_array_equal(code_counts(idx, 6), [2, 0, 1, 0, 0, 3])
    assert codes_used(idx) == 3
    with pytest.raises(ValueError, match="code index 5 out of range for 4 embeddings"):
        code_counts(idx, 4)
    with pytest.raises(ValueError, match="non-negative"):
        codes_used(np.array([-1, 0]))
    with pytest.raises(ValueError, match="must be integers"):
        codes_used(np.array([0.5]))


def test_normalized_mse_closed_forms():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 4, 4, 1))
    assert normalized_mse(x, x) == 0.0
    assert normalized_mse(x, np.full_like(x, x.mean())) == pytest.approx(1.0)
    # a constant offset c adds N c^2 to the error
    c = 0.5
    expected = x.size * c**2 / np.sum((x - x.mean()) ** 2)
    assert normalized_mse(x, x + c) == pytest.approx(expected)
    assert normalized_mse(x.reshape(10, -1), x) == 0.0  # any layout with the same size
    with pytest.raises(ValueError, match="zero variance"):
        normalized_mse(np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="x has 4 values, x_hat 3"):
        normalized_mse(np.ones(4), np.zeros(3))
    assert math.isfinite(normalized_mse([0.0, 1.0], [1.0, 0.0]))
