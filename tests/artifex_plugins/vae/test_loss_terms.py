"""The family's composition: the ``loss_terms`` hook, the declared loss aliases and the latent strategies."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core.training import scalar_metrics
from artifex_plugins.vae import VAE, VQVAE, BetaVAE, GaussianLatent, VectorQuantizedLatent
from artifex_plugins.vae.decoders import CNNDecoder, MLPDecoder
from artifex_plugins.vae.encoders import CNNEncoder, MLPEncoder

D, L = 6, 2
X = jax.random.uniform(jax.random.key(1), (4, D))


def _parts(rngs: nnx.Rngs) -> tuple[MLPEncoder, MLPDecoder]:
    return MLPEncoder([8], L, input_dim=(D,), rngs=rngs), MLPDecoder([8], (D,), L, rngs=rngs)


SEEN: dict[str, Any] = {}


class _Doubled(BetaVAE):
    """A variant through the hook only: its loss is twice the β-VAE's; records what the hook was given."""

    def loss_terms(self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array,
                   **kwargs: Any) -> dict[str, jax.Array]:
        SEEN.update(x=x, outputs=outputs, **kwargs)
        terms = super().loss_terms(x, outputs, reconstruction_loss, **kwargs)
        return {**terms, "doubled": 2 * terms["loss"], "loss": 2 * terms["loss"]}


def test_a_variant_changes_the_objective_through_loss_terms() -> None:
    rngs = nnx.Rngs(0)
    plain = BetaVAE(*_parts(rngs), L, beta_default=3.0, rngs=rngs)
    rngs = nnx.Rngs(0)
    doubled = _Doubled(*_parts(rngs), L, beta_default=3.0, rngs=rngs)  # same seed: same weights
    key = jax.random.key(3)
    base = plain.loss_fn(x=X, rng=key, step=7)
    losses = doubled.loss_fn(x=X, rng=key, step=7, extra="kept")
    np.testing.assert_allclose(losses["loss"], 2 * base["loss"], rtol=1e-6)
    np.testing.assert_allclose(losses["total_loss"], losses["loss"])  # the alias follows the hook's loss
    np.testing.assert_allclose(losses["recon_loss"], base["reconstruction_loss"], rtol=1e-6)
    assert SEEN["step"] == 7 and SEEN["extra"] == "kept" and SEEN["beta"] is None
    np.testing.assert_array_equal(SEEN["x"], X)
    assert set(SEEN["outputs"]) == {"reconstructed", "reconstruction", "mean", "log_var", "logvar", "z"}


def test_loss_fn_is_loss_terms_plus_the_declared_aliases() -> None:
    rngs = nnx.Rngs(0)
    vae = VAE(*_parts(rngs), L, rngs=rngs)
    outputs = vae(X)
    recon = -jnp.mean(vae.log_likelihood(X, outputs))
    terms = vae.loss_terms(X, outputs, recon)
    losses = vae.loss_fn(x=X, outputs=outputs)
    assert dict(vae.loss_aliases) == {"recon_loss": "reconstruction_loss", "total_loss": "loss"}
    assert set(losses) == set(terms) | set(vae.loss_aliases)
    for alias, key in vae.loss_aliases.items():
        assert losses[alias] is losses[key]
    assert set(scalar_metrics(losses, vae.loss_aliases)) == set(terms)  # the trainer logs each value once


def test_plain_vae_ignores_a_condition() -> None:
    rngs = nnx.Rngs(0)
    vae = VAE(*_parts(rngs), L, rngs=rngs)
    z = jnp.ones((3, L))
    np.testing.assert_array_equal(vae.decode_outputs(z, y=jnp.array([0, 1, 2]))["decoder_output"], vae.decoder(z))


def test_vqvae_composes_its_latent_and_overrides_no_vae_method() -> None:
    rngs = nnx.Rngs(0)
    model = VQVAE(*_parts(rngs), L, num_embeddings=4, embedding_dim=2, rngs=rngs)
    assert isinstance(model.latent, VectorQuantizedLatent) and isinstance(VAE(*_parts(rngs), L, rngs=rngs).latent,
                                                                           GaussianLatent)
    overridden = {name for name in vars(VQVAE) if callable(getattr(VAE, name, None)) and name != "__init__"}
    assert overridden == set()
    assert "kl_loss" not in model.loss_fn(x=X)


def test_gaussian_latent_closed_forms() -> None:
    latent = GaussianLatent(3)
    mean, log_var, key = jnp.array([[1.0, -2.0, 0.5]]), jnp.array([[0.0, 2.0, -1.0]]), jax.random.key(0)
    out = latent.posterior(mean, log_var, key)
    eps = jax.random.normal(key, (1, 3))
    np.testing.assert_allclose(out["z"], mean + jnp.exp(log_var / 2) * eps, rtol=1e-6)
    kl = -0.5 * np.sum(1 + np.asarray(log_var) - np.asarray(mean) ** 2 - np.exp(np.asarray(log_var)))
    terms = latent.regularizer(out)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-6)
    np.testing.assert_allclose(latent.penalty(terms, 0.5), 0.5 * kl, rtol=1e-6)
    np.testing.assert_allclose(latent.prior_sample(key, 1, 2.0), 2.0 * jax.random.normal(key, (1, 3)), rtol=1e-6)


def test_vq_latent_prior_needs_a_known_shape_and_a_positive_temperature() -> None:
    vq = VectorQuantizedLatent(4, 2, 0.25, key=jax.random.key(0), latent_shape=None)
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        vq.prior_sample(jax.random.key(1), 2, 0.0)
    with pytest.raises(ValueError, match="latent shape is unknown"):
        vq.prior_sample(jax.random.key(1), 2, 1.0)


def test_spatial_latent_shape_comes_from_the_decoder_grid_when_the_encoder_is_lazy() -> None:
    rngs = nnx.Rngs(0)
    enc = CNNEncoder([4], 4, input_dim=None, spatial=True, rngs=rngs)
    dec = CNNDecoder([4], (4, 4, 1), 4, spatial=True, rngs=rngs)
    model = VQVAE(enc, dec, latent_dim=4, num_embeddings=8, embedding_dim=2, rngs=rngs)
    assert model.latent.latent_shape == (2, 2, 4)
    assert model.sample(2).shape == (2, 4, 4, 1)  # before any call
    assert model(jnp.ones((1, 4, 4, 1)))["z_e"].shape == (1, 2, 2, 4)
