"""IWAE, MIWAE and PIWAE against closed forms on a one-dimensional linear-Gaussian model.

The model: p(z) = N(0, 1), p(x | z) = N(z, s^2), so p(x) = N(0, 1 + s^2) and the exact posterior is
N(x / (1 + s^2), s^2 / (1 + s^2)). The likelihood is a normalised Gaussian (a subclass overrides
``log_likelihood``, as the VAE contract allows), so every bound is comparable to ``log p(x)``.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_zoo import IWAE, MIWAE, PIWAE, iwae_bound, miwae_bound

S2 = 0.25  # the decoder's variance s^2


def _gaussian_ll(x: jax.Array, mean: jax.Array, var: float = S2) -> jax.Array:
    d = (x - mean).reshape(x.shape[0], -1)
    return jnp.sum(-0.5 * (math.log(2 * math.pi * var) + jnp.square(d) / var), axis=-1)


def _log_px(x: np.ndarray) -> np.ndarray:
    return -0.5 * (np.log(2 * np.pi * (1 + S2)) + x[:, 0] ** 2 / (1 + S2))


class AffineEncoder(nnx.Module):
    """q(z | x) = N(a x + b, exp(c)), parameters a, b, c."""

    def __init__(self, a: float, b: float, c: float) -> None:
        self.a, self.b, self.c = nnx.Param(jnp.array(a)), nnx.Param(jnp.array(b)), nnx.Param(jnp.array(c))
        self.input_dim = (1,)

    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        return self.a[...] * x + self.b[...], jnp.full_like(x, self.c[...])


class AffineDecoder(nnx.Module):
    """The mean of p(x | z): w z + v."""

    def __init__(self, w: float = 1.0, v: float = 0.0) -> None:
        self.w, self.v = nnx.Param(jnp.array(w)), nnx.Param(jnp.array(v))
        self.output_dim = (1,)

    def __call__(self, z: jax.Array) -> jax.Array:
        return self.w[...] * z + self.v[...]


def _gaussian(cls: type) -> type:
    class Gaussian(cls):  # type: ignore[misc, valid-type]
        normalized_likelihood = True

        def log_likelihood(self, x: jax.Array, outputs: dict[str, Any], *, y: Any = None) -> jax.Array:
            return _gaussian_ll(x, outputs["decoder_output"])

    Gaussian.__name__ = f"Gaussian{cls.__name__}"
    return Gaussian


EXACT = (1 / (1 + S2), 0.0, math.log(S2 / (1 + S2)))  # the exact posterior
LOOSE = (0.5, 0.1, math.log(0.5))  # a worse one


def _model(cls: type, enc: tuple[float, float, float] = EXACT, dec: tuple[float, float] = (1.0, 0.0),
           seed: int = 0, **kw: Any) -> Any:
    return _gaussian(cls)(AffineEncoder(*enc), AffineDecoder(*dec), 1, rngs=nnx.Rngs(seed), **kw)


X = np.array([[0.5], [-1.0], [2.0]], np.float32)


def test_bound_functions_closed_form() -> None:
    log_w = jnp.log(jnp.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0], [7.0, 2.0]]))
    np.testing.assert_allclose(iwae_bound(log_w), np.log([4.0, 2.0]), rtol=1e-6)  # (1+3+5+7)/4, all 2
    np.testing.assert_allclose(miwae_bound(log_w, 2), [np.log(2) / 2 + np.log(6) / 2, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(miwae_bound(log_w, 4), jnp.mean(log_w, axis=0), rtol=1e-6)  # K = 1: the ELBO
    np.testing.assert_allclose(miwae_bound(log_w, 1), iwae_bound(log_w), rtol=1e-6)  # M = 1: the IWAE
    with pytest.raises(ValueError, match="num_outer=3 must be >= 1 and divide the 4 samples"):
        miwae_bound(log_w, 3)


@pytest.mark.parametrize("cls, kw", [(IWAE, {"k": 3}), (MIWAE, {"num_outer": 2, "num_inner": 3}),
                                     (PIWAE, {"num_outer": 2, "num_inner": 2})])
def test_exact_posterior_makes_every_bound_log_px(cls: type, kw: dict[str, int]) -> None:
    """With q = p(z | x) every weight is p(x): each bound equals log p(x) whatever the samples."""
    model = _model(cls, **kw)
    log_w = model.log_importance_weights(jnp.asarray(X), 4, key=jax.random.key(1))
    np.testing.assert_allclose(log_w, np.broadcast_to(_log_px(X), (4, 3)), atol=1e-5)
    loss = model.loss_fn(x=jnp.asarray(X))["loss"]
    assert float(loss) == pytest.approx(float(-_log_px(X).mean()), abs=1e-5)


def test_k1_is_the_elbo() -> None:
    """IWAE(k=1)'s loss is the -ELBO: -E_q log p(x|z) + KL(q || p), in closed form for the affine model."""
    a, b, c = LOOSE
    x = np.full((40000, 1), 0.8, np.float32)
    m, v = a * 0.8 + b, math.exp(c)
    expected_ll = -0.5 * math.log(2 * math.pi * S2) - ((0.8 - m) ** 2 + v) / (2 * S2)
    kl = 0.5 * (m * m + v - 1 - math.log(v))
    loss = _model(IWAE, LOOSE, k=1).loss_fn(x=jnp.asarray(x))
    assert float(loss["loss"]) == pytest.approx(-(expected_ll - kl), abs=0.02)
    assert float(loss["kl_loss"]) == pytest.approx(kl, abs=1e-5)  # the forward pass's analytic KL


def test_bound_increases_with_k_towards_log_px() -> None:
    """E[L_1] < E[L_4] < E[L_16] < log p(x) for a fixed imperfect posterior (20000 draws each)."""
    x = np.full((20000, 1), 0.8, np.float32)
    means = [float(-_model(IWAE, LOOSE, k=k).loss_fn(x=jnp.asarray(x))["loss"]) for k in (1, 4, 16)]
    log_px = float(_log_px(x[:1])[0])
    assert means[0] < means[1] - 0.02 < means[2] - 0.04 < log_px - 0.04
    assert log_px - means[2] < 0.5 * (log_px - means[0])


def test_iwae_gradient_is_the_self_normalised_estimator() -> None:
    """d L_k / d theta = sum_i w~_i d log w_i / d theta (Burda et al. eq. 8), for the decoder weight w."""
    model = _model(IWAE, LOOSE, k=5)
    x, key = jnp.asarray(X), jax.random.key(3)
    eps = jax.random.normal(key, (5, 3, 1))  # the draws posterior_samples makes with this key
    mean, log_var = model.encode(x)
    z = mean[None] + jnp.exp(0.5 * log_var)[None] * eps

    def log_w(w: jax.Array) -> jax.Array:  # log p(x|z; w) + log p(z) - log q(z|x), z held fixed
        ll = jax.vmap(lambda zi: _gaussian_ll(x, w * zi))(z)
        return ll - 0.5 * (math.log(2 * math.pi) + z[..., 0] ** 2) + 0.5 * (
            math.log(2 * math.pi) + log_var[None, :, 0] + eps[..., 0] ** 2)

    weights = jax.nn.softmax(log_w(jnp.array(1.0)), axis=0)
    per_sample = jax.jacobian(log_w)(jnp.array(1.0))  # (5, 3)
    expected = jnp.sum(weights * per_sample, axis=0).mean()
    grads = nnx.grad(lambda m: jnp.mean(m.bound(x, key=key)))(model)
    assert float(grads["decoder"]["w"][...]) == pytest.approx(float(expected), rel=1e-4)


def _grads(model: Any, x: jax.Array) -> Any:
    return nnx.grad(lambda m: m.loss_fn(x=x, rng=jax.random.key(0))["loss"])(model)


def test_piwae_values_and_gradients_go_to_the_right_parameters() -> None:
    """PIWAE: decoder gradient = that of IWAE with M*K samples, encoder gradient = that of MIWAE(M, K)."""
    x = jnp.asarray(X)
    m_, k_ = 2, 3
    piwae = _model(PIWAE, LOOSE, dec=(0.7, 0.2), num_outer=m_, num_inner=k_)
    iwae = _model(IWAE, LOOSE, dec=(0.7, 0.2), k=m_ * k_)
    miwae = _model(MIWAE, LOOSE, dec=(0.7, 0.2), num_outer=m_, num_inner=k_)
    losses = {name: mdl.loss_fn(x=x, rng=jax.random.key(0)) for name, mdl in
              (("p", nnx.clone(piwae)), ("i", nnx.clone(iwae)), ("m", nnx.clone(miwae)))}
    assert float(losses["p"]["loss"]) == pytest.approx(float(losses["i"]["loss"]), rel=1e-6)
    assert float(losses["p"]["iwae_bound"]) == pytest.approx(float(losses["i"]["iwae_bound"]), rel=1e-6)
    assert float(losses["p"]["miwae_bound"]) == pytest.approx(float(losses["m"]["miwae_bound"]), rel=1e-6)
    assert float(losses["m"]["miwae_bound"]) > float(losses["i"]["iwae_bound"])  # L_{M,K} <= L_{MK}

    gp, gi, gm = _grads(piwae, x), _grads(iwae, x), _grads(miwae, x)
    for name in ("w", "v"):
        assert float(gp["decoder"][name][...]) == pytest.approx(float(gi["decoder"][name][...]), rel=1e-5)
    for name in ("a", "b", "c"):
        assert float(gp["encoder"][name][...]) == pytest.approx(float(gm["encoder"][name][...]), rel=1e-5)
        assert abs(float(gp["encoder"][name][...]) - float(gi["encoder"][name][...])) > 1e-4
    assert abs(float(gp["decoder"]["w"][...]) - float(gm["decoder"]["w"][...])) > 1e-4


def test_sample_counts_are_checked() -> None:
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        _model(IWAE, k=0)
    with pytest.raises(ValueError, match="num_inner must be an integer >= 1, got 2.5"):
        _model(MIWAE, num_inner=2.5)
