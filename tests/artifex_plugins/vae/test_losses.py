"""Reconstruction likelihoods and the KL divergence, checked against closed forms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifex_core import losses as loss_registry
from artifex_plugins.vae import (
    CallableLoss,
    ReconstructionLoss,
    as_likelihood,
    bce,
    kl_divergence,
    l1,
    mse,
    resolve_loss,
    sum_per_example,
)


def _rand(shape, seed=0, scale=1.0):
    return np.asarray(jax.random.normal(jax.random.key(seed), shape)) * scale


def test_mse_is_plain_sum_of_squared_errors_per_example():
    raw = jnp.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    x = jnp.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(mse(raw, x), [0.0 + 4.0 + 4.0, 3.0])
    np.testing.assert_allclose(mse.batch_mean(raw, x), (8.0 + 3.0) / 2)


def test_l1_is_sum_of_absolute_errors_per_example():
    raw = jnp.array([[1.0, -2.0], [0.5, 0.5]])
    x = jnp.zeros((2, 2))
    np.testing.assert_allclose(l1(raw, x), [3.0, 1.0])


def test_losses_sum_over_all_data_dims_of_images():
    raw = jnp.ones((2, 4, 4, 3))
    x = jnp.zeros((2, 4, 4, 3))
    np.testing.assert_allclose(mse(raw, x), [48.0, 48.0])
    assert mse(raw, x).shape == (2,)


def test_bce_matches_direct_computation_from_logits():
    logits = _rand((3, 7), seed=1, scale=3.0)
    x = np.asarray(jax.random.uniform(jax.random.key(2), (3, 7)))
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    direct = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(bce(jnp.asarray(logits), jnp.asarray(x)), direct, rtol=1e-5)


def test_bce_is_exact_for_saturated_logits_not_clipped():
    # A clipped-probability BCE (clip to [1e-7, 1 - 1e-7]) would give -log(1e-7) ~= 16.1 here.
    logits = jnp.array([[60.0, -60.0]])
    x = jnp.array([[0.0, 1.0]])
    np.testing.assert_allclose(bce(logits, x), [120.0], rtol=1e-5)
    grad = jax.grad(lambda lg: bce(lg, x).sum())(logits)
    np.testing.assert_allclose(grad, [[1.0, -1.0]], atol=1e-6)  # sigmoid(l) - x, not zero


def test_data_space_mappings():
    raw = jnp.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(bce.to_data(raw), jax.nn.sigmoid(raw))
    assert mse.to_data(raw) is raw and l1.to_data(raw) is raw
    assert mse.identity_link and l1.identity_link and not bce.identity_link


def test_kl_is_zero_at_the_prior():
    np.testing.assert_allclose(kl_divergence(jnp.zeros((4, 5)), jnp.zeros((4, 5))), np.zeros(4), atol=1e-7)


def test_kl_matches_closed_form():
    mean = _rand((3, 6), seed=3)
    log_var = _rand((3, 6), seed=4, scale=0.5)
    var = np.exp(log_var.astype(np.float64))
    closed = 0.5 * (var + mean.astype(np.float64) ** 2 - 1.0 - log_var).sum(axis=1)
    np.testing.assert_allclose(kl_divergence(jnp.asarray(mean), jnp.asarray(log_var)), closed, rtol=1e-5)
    # one dimension, mean 1, unit variance: KL = 1/2
    np.testing.assert_allclose(kl_divergence(jnp.ones((1, 1)), jnp.zeros((1, 1))), [0.5])
    # variance e, mean 0: KL = (e - 1 - 1) / 2
    np.testing.assert_allclose(kl_divergence(jnp.zeros((1, 1)), jnp.ones((1, 1))), [(np.e - 2) / 2], rtol=1e-6)


def test_kl_matches_monte_carlo_estimate():
    mean, log_var = jnp.array([[0.7, -1.2]]), jnp.array([[-0.5, 0.4]])
    std = jnp.exp(0.5 * log_var)
    z = mean + std * jax.random.normal(jax.random.key(0), (200_000, 2))
    log_q = jax.scipy.stats.norm.logpdf(z, mean, std).sum(-1)
    log_p = jax.scipy.stats.norm.logpdf(z).sum(-1)
    np.testing.assert_allclose(jnp.mean(log_q - log_p), kl_divergence(mean, log_var)[0], rtol=2e-2)


def test_kl_sums_over_spatial_latents():
    mean = jnp.ones((2, 3, 3, 4))
    assert kl_divergence(mean, jnp.zeros_like(mean)).tolist() == [18.0, 18.0]


def test_sum_per_example():
    assert sum_per_example(jnp.ones((3, 2, 2))).tolist() == [4.0, 4.0, 4.0]


def test_registry_resolves_builtin_losses():
    assert loss_registry.get("mse") is mse
    assert loss_registry.get("bce") is bce
    assert loss_registry.get("l1") is l1
    assert resolve_loss("bce") is bce


def test_unknown_loss_is_value_error_with_suggestion():
    with pytest.raises(ValueError, match="did you mean 'mse'"):
        resolve_loss("mes")


def test_plain_callable_is_wrapped_with_identity_mapping():
    calls = []

    def half_sq(reconstructed, x):
        calls.append(reconstructed.shape)
        return 0.5 * jnp.sum((reconstructed - x) ** 2)

    loss = as_likelihood(half_sq)
    assert isinstance(loss, CallableLoss) and loss.identity_link
    value = loss.batch_mean(jnp.ones((2, 3)), jnp.zeros((2, 3)))
    np.testing.assert_allclose(value, 3.0)
    per_example = CallableLoss(lambda r, x: jnp.sum((r - x) ** 2, axis=1))
    np.testing.assert_allclose(per_example.batch_mean(jnp.array([[1.0], [3.0]]), jnp.zeros((2, 1))), 5.0)
    with pytest.raises(TypeError):
        as_likelihood(42)


def test_custom_reconstruction_loss_object():
    sq = ReconstructionLoss("sq", lambda raw, x: (raw - x) ** 2, jnp.tanh)
    assert not sq.identity_link
    np.testing.assert_allclose(sq.to_data(jnp.array([0.5])), np.tanh(0.5), rtol=1e-6)
    assert as_likelihood(sq) is sq


def test_bce_closed_form_equals_optax_and_its_gradient_is_sigmoid_minus_x():
    import optax

    logits = jnp.asarray([-80.0, -3.5, -0.2, 0.0, 0.7, 4.0, 60.0])
    x = jnp.asarray([0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0])
    per_pixel = bce._nll(logits, x)
    np.testing.assert_allclose(per_pixel, optax.sigmoid_binary_cross_entropy(logits, x), rtol=1e-6, atol=1e-6)
    grad = jax.grad(lambda lg: bce._nll(lg, x).sum())(logits)
    np.testing.assert_allclose(grad, jax.nn.sigmoid(logits) - x, atol=1e-6)
