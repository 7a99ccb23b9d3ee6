"""VampPrior: the mixture prior against a hand mixture, the K = 1 standard-normal case, sampling, metrics."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import ModelConfig, create_model
from artifex_zoo import VampPrior, mixture_log_density, standard_normal_log_density


def _model(k: int = 3, **kw: object) -> VampPrior:
    cfg = ModelConfig(model="vampprior", input_dim=(5,), latent_dim=2, hidden_dims=(8,),
                      parameters={"num_pseudo_inputs": k, "pseudo_input_std": 0.3, "pseudo_input_mean": 0.5, **kw})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert isinstance(model, VampPrior)
    return model


def test_log_prior_is_the_hand_mixture() -> None:
    model = _model(3)
    means, log_vars = (np.asarray(a, np.float64) for a in model.encode(model.pseudo_inputs()))
    z = np.array([[0.3, -0.2], [1.5, 0.7], [-2.0, 0.1]])
    var = np.exp(log_vars)
    comp = np.exp(-0.5 * (((z[:, None, :] - means) ** 2) / var + np.log(2 * np.pi * var)).sum(-1))  # (3, K)
    np.testing.assert_allclose(model.log_prior(jnp.asarray(z, jnp.float32)), np.log(comp.mean(-1)), rtol=1e-5)


class CentredEncoder(nnx.Module):
    """q(z | x) = N(x - 0.3, I) on one dimension."""

    def __init__(self) -> None:
        self.input_dim = (1,)

    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        return x - 0.3, jnp.zeros_like(x)


class Identity(nnx.Module):
    def __init__(self) -> None:
        self.output_dim = (1,)

    def __call__(self, z: jax.Array) -> jax.Array:
        return z


def test_one_pseudo_input_with_standard_posterior_is_the_standard_normal_prior() -> None:
    model = VampPrior(CentredEncoder(), Identity(), 1, rngs=nnx.Rngs(0), num_pseudo_inputs=1,
                      pseudo_input_mean=0.3, pseudo_input_std=0.0)
    z = jnp.linspace(-3, 3, 7)[:, None]
    np.testing.assert_allclose(model.log_prior(z), standard_normal_log_density(z), rtol=1e-6)
    # then the Monte Carlo KL estimates the analytic KL(q || N(0, I)) without bias
    x = jnp.full((40000, 1), 1.3)  # q = N(1, 1): KL = 0.5
    assert float(model.loss_fn(x=x)["kl_loss"]) == pytest.approx(0.5, abs=0.03)


def test_mixture_of_equal_components_is_the_component() -> None:
    z = jnp.array([[0.2, 1.0]])
    comps = jnp.array([[0.0, 1.0], [0.0, 1.0]]), jnp.log(jnp.array([[2.0, 0.5], [2.0, 0.5]]))
    single = -0.5 * (math.log(2 * math.pi * 2.0) + 0.04 / 2.0 + math.log(2 * math.pi * 0.5))
    assert float(mixture_log_density(z, *comps)[0]) == pytest.approx(single, rel=1e-6)


def test_pseudo_inputs_are_learned_and_clipped_to_data_space() -> None:
    model = _model(4, pseudo_input_std=2.0)
    u = model.pseudo_inputs()
    assert u.shape == (4, 5) and float(u.min()) >= 0.0 and float(u.max()) <= 1.0
    grads = nnx.grad(lambda m: m.loss_fn(x=jnp.full((6, 5), 0.4))["loss"])(model)
    assert bool(jnp.any(grads["pseudo_input_params"][...] != 0))


def test_samples_come_from_the_mixture_components() -> None:
    model = _model(3)
    means, log_vars = model.prior_components()
    z = model.sample_prior(500, temperature=0.01, key=jax.random.key(1))
    nearest = jnp.min(jnp.abs(z[:, None, :] - means[None]).max(-1), axis=1)
    assert float(nearest.max()) < 0.05 * float(jnp.exp(0.5 * log_vars).max()) + 1e-3
    assert model.sample(4).shape == (4, 5)


def test_declares_its_own_latent_so_only_the_zoo_metric_applies() -> None:
    from types import SimpleNamespace

    from artifex_plugins.metrics import IWAEBound
    from artifex_zoo import ZooIWAE

    run = SimpleNamespace(model=_model(2))
    assert not IWAEBound(k=5).applies(run) and ZooIWAE(k=5).applies(run)
    with pytest.raises(ValueError, match="num_pseudo_inputs must be an integer >= 1, got 0"):
        VampPrior(CentredEncoder(), Identity(), 1, rngs=nnx.Rngs(0), num_pseudo_inputs=0)
