"""A jitted optax training step lowers every model's loss on a fixed batch, with no state errors.

Two step styles, as trainers write them: ``nnx.Optimizer`` + ``nnx.jit``, and ``jax.jit`` over the
``nnx.split`` state (parameters differentiated, the other state (rng counts, code usage, EMA codebook)
carried through the step).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex_plugins.vae import VAE, BetaVAE, BetaVAEWithCapacity, ConditionalVAE, VQVAE
from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder
from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder

D, L, B, STEPS = 12, 4, 16, 20
X = jax.random.uniform(jax.random.key(0), (B, D))
Y = jnp.arange(B) % 3


def build(name: str) -> tuple[nnx.Module, object]:
    rngs = nnx.Rngs(params=0, sample=1)
    enc = MLPEncoder([16], L, input_dim=(D,), rngs=rngs)
    dec = MLPDecoder([16], (D,), L, rngs=rngs)
    common = {"encoder": enc, "decoder": dec, "latent_dim": L, "rngs": rngs}
    if name == "vae":
        return VAE(**common), X
    if name == "beta_vae":
        return BetaVAE(**common, beta_default=2.0, beta_warmup_steps=10), X
    if name == "capacity":
        model = BetaVAEWithCapacity(
            **common, use_capacity_control=True, capacity_max=2.0, capacity_num_iter=10, gamma=5.0
        )
        return model, X
    if name == "bce":
        return VAE(**common, reconstruction_loss_type="bce"), X
    if name == "conditional":
        common["encoder"] = ConditionalEncoder(enc, num_classes=3, embed_dim=4, rngs=rngs)
        common["decoder"] = ConditionalDecoder(dec, num_classes=3, embed_dim=4, rngs=rngs)
        return ConditionalVAE(**common, condition_dim=3), {"x": X, "y": Y}
    if name == "vqvae":
        return VQVAE(**common, num_embeddings=8, embedding_dim=2), X
    if name == "vqvae_ema":
        return VQVAE(**common, num_embeddings=8, embedding_dim=2, use_ema=True, ema_decay=0.9), X
    raise AssertionError(name)


NAMES = ["vae", "beta_vae", "capacity", "conditional", "vqvae"]


def eval_loss(model, batch) -> float:
    """The loss at the final schedule step, with a fixed key, in eval mode (no state updates)."""
    model.eval()
    loss = float(model.loss_fn(batch=batch, rng=jax.random.key(42), step=STEPS)["loss"])
    model.train()
    return loss


@pytest.mark.parametrize("name", NAMES)
def test_nnx_jit_optimizer_step_lowers_the_loss(name):
    model, batch = build(name)
    before = eval_loss(model, batch)
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer, batch, step):
        def loss_fn(model):
            terms = model.loss_fn(batch=batch, step=step)
            return terms["loss"], terms

        (_, terms), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return terms

    model.train()
    for step in range(STEPS):
        terms = train_step(model, optimizer, batch, jnp.asarray(step))
    assert {"loss", "total_loss"} <= set(terms)
    assert all(np.isfinite(float(v)) for v in jax.tree_util.tree_leaves(terms))
    assert int(model.rngs.sample.count[...]) == STEPS  # the model's own stream advanced once per step
    if name.startswith("vqvae"):
        assert float(model.latent.code_counts[...].sum()) == STEPS * B * 2
    after = eval_loss(model, batch)
    assert after < before, (name, before, after)


@pytest.mark.parametrize("name", ["bce", "conditional", "vqvae_ema"])
def test_jax_jit_over_split_state_lowers_the_loss(name):
    model, batch = build(name)
    before = eval_loss(model, batch)
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(1e-2)
    opt_state = tx.init(params)

    @jax.jit
    def train_step(params, rest, opt_state, batch, step):
        def loss_fn(params):
            m = nnx.merge(graphdef, params, rest, copy=True)
            terms = m.loss_fn(batch=batch, step=step)
            return terms["loss"], nnx.state(m, nnx.Not(nnx.Param))

        (loss, rest), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), rest, opt_state, loss

    codebook0 = np.asarray(model.latent.codebook[...]) if name == "vqvae_ema" else None
    for step in range(STEPS):
        params, rest, opt_state, loss = train_step(params, rest, opt_state, batch, jnp.asarray(step))
        assert np.isfinite(float(loss))
    nnx.update(model, params, rest)
    assert int(model.rngs.sample.count[...]) == STEPS
    if name == "vqvae_ema":
        assert float(model.latent.code_counts[...].sum()) == STEPS * B * 2
        assert not np.allclose(model.latent.codebook[...], codebook0)  # moved by EMA, not by the optimizer
        assert "codebook" not in params
    assert eval_loss(model, batch) < before
