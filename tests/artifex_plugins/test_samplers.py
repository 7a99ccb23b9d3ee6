"""The built-in samplers: the gmm sampler recovers a known mixture; its draws follow the fitted state."""

from __future__ import annotations

import numpy as np
import pytest

from artifex_core import SamplerError
from artifex_plugins._samplers import GaussianMixtureSampler, gmm_sample

TRUE_MEANS = np.array([[-4.0, 0.0, 1.0], [3.0, 3.0, -2.0], [0.0, -5.0, 4.0]])
TRUE_WEIGHTS = np.array([0.5, 0.3, 0.2])


class Identity:
    """A stand-in model whose posterior mean is its input and whose decoder is the identity."""

    def encode(self, x):  # noqa: ANN001, ANN201
        return x, x * 0

    def decode(self, z):  # noqa: ANN001, ANN201
        return z


def _mixture(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    comps = rng.choice(3, n, p=TRUE_WEIGHTS)
    return (TRUE_MEANS[comps] + 0.3 * rng.standard_normal((n, 3))).astype(np.float32)


def _sorted(state: dict) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(state["means"][:, 0])
    return state["means"][order], state["weights"][order]


def test_gmm_recovers_a_known_mixture_from_the_posterior_means() -> None:
    sampler = GaussianMixtureSampler(n_components=3, batch_size=500)
    state = sampler.fit(Identity(), _mixture(3000), seed=0)
    means, weights = _sorted(state)
    np.testing.assert_allclose(means, TRUE_MEANS[np.argsort(TRUE_MEANS[:, 0])], atol=0.05)
    np.testing.assert_allclose(weights, TRUE_WEIGHTS[np.argsort(TRUE_MEANS[:, 0])], atol=0.03)
    cov = state["covariances"]
    assert cov.shape == (3, 3, 3)
    np.testing.assert_allclose(cov, np.broadcast_to(0.09 * np.eye(3), cov.shape), atol=0.02)
    assert state["latent_shape"].tolist() == [3]


def test_draws_follow_the_fitted_mixture_and_are_seeded() -> None:
    sampler = GaussianMixtureSampler(n_components=3)
    state = sampler.fit(Identity(), _mixture(3000), seed=0)
    draws = sampler.sample(Identity(), 4000, state=state, seed=1)
    nearest = np.argmin(((draws[:, None, :] - TRUE_MEANS[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(np.bincount(nearest, minlength=3) / 4000, TRUE_WEIGHTS, atol=0.03)
    np.testing.assert_array_equal(draws, sampler.sample(Identity(), 4000, state=state, seed=1))
    cold = sampler.sample(Identity(), 4000, state=state, seed=1, temperature=0.0)
    assert {tuple(np.round(p, 6)) for p in cold} == {tuple(np.round(m, 6)) for m in state["means"].astype(np.float32)}


@pytest.mark.parametrize("kind", ["diag", "tied", "spherical"])
def test_every_covariance_type_is_stored_as_full_matrices(kind: str) -> None:
    state = GaussianMixtureSampler(n_components=3, covariance_type=kind).fit(Identity(), _mixture(1500), seed=0)
    cov = state["covariances"]
    assert cov.shape == (3, 3, 3) and np.all(np.linalg.eigvalsh(cov) > 0)
    if kind != "tied":
        np.testing.assert_allclose(cov - np.eye(3) * np.diagonal(cov, axis1=1, axis2=2)[:, None, :], 0.0)
    if kind == "spherical":
        diag = np.diagonal(cov, axis1=1, axis2=2)
        np.testing.assert_allclose(diag, diag[:, :1].repeat(3, 1))


def test_gmm_sample_matches_the_closed_form_moments() -> None:
    state = {"weights": np.array([1.0]), "means": np.array([[1.0, -2.0]]),
             "covariances": np.array([[[4.0, 1.2], [1.2, 1.0]]])}
    z = gmm_sample(state, 200_000, seed=0).astype(np.float64)
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.02)
    np.testing.assert_allclose(np.cov(z.T), state["covariances"][0], atol=0.04)


def test_gmm_errors_name_the_value() -> None:
    with pytest.raises(SamplerError, match="n_components must be an integer >= 1, got 0"):
        GaussianMixtureSampler(n_components=0)
    with pytest.raises(SamplerError, match="at least n_components=5 examples, got 3"):
        GaussianMixtureSampler(n_components=5).fit(Identity(), _mixture(3))
    with pytest.raises(SamplerError, match="needs a model with encode"):
        GaussianMixtureSampler().fit(object(), _mixture(30))


class NeedsLabels(Identity):
    """A conditional stand-in: its encoder requires the labels (as ConditionalVAE's does)."""

    seen: list[int] = []

    def encode(self, x, y=None):  # noqa: ANN001, ANN201
        if y is None:
            raise ValueError("y is required")
        NeedsLabels.seen.append(len(y))
        return x, x * 0


def test_a_conditional_encoder_gets_the_training_labels() -> None:
    x = _mixture(600)
    state = GaussianMixtureSampler(n_components=3, batch_size=250).fit(NeedsLabels(), x, y_train=np.zeros(600, int))
    assert NeedsLabels.seen == [250, 250, 100] and state["means"].shape == (3, 3)
