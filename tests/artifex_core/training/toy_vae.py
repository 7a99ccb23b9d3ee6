"""A tiny MLP VAE following the trainer's model contract, for tests only.

It mutates non-parameter state inside ``loss_fn`` (its RNG stream and a ``Seen`` counter, incremented in train
mode only), so tests can check that the trainer carries that state out of the jitted step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from artifex_core.data import Dataset
from artifex_core.training import Callback, TrainConfig, Trainer
from artifex_core.training import FitResult


class Seen(nnx.Variable):
    """Examples seen in train mode (non-parameter state)."""


class ToyVAE(nnx.Module):
    """Bernoulli MLP VAE: ``x -> hidden -> (mu, logvar) -> z -> hidden -> logits``."""

    loss_aliases = {"recon_loss": "reconstruction_loss", "total_loss": "loss"}  # the keys loss_fn repeats

    def __init__(
        self,
        input_shape: tuple[int, ...],
        latent_dim: int = 2,
        hidden: int = 16,
        *,
        rngs: nnx.Rngs,
        num_classes: int | None = None,
        nan_at_step: int | None = None,
        reconstruction_loss_type: str = "bce",
    ) -> None:
        self.input_shape = tuple(input_shape)
        d = int(np.prod(input_shape))
        c = num_classes or 0
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.enc = nnx.Linear(d + c, hidden, rngs=rngs)
        self.mu = nnx.Linear(hidden, latent_dim, rngs=rngs)
        self.logvar = nnx.Linear(hidden, latent_dim, rngs=rngs)
        self.dec = nnx.Linear(latent_dim + c, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, d, rngs=rngs)
        self.rngs = rngs
        self.seen = Seen(jnp.zeros((), jnp.int32))
        self.deterministic = False
        # a runtime value (not a Python constant), so the compiled step is the same whatever it is
        self.nan_at_step = Seen(jnp.asarray(2**30 if nan_at_step is None else nan_at_step, jnp.int32))
        self.reconstruction_loss_type = reconstruction_loss_type

    def _cond(self, h: jax.Array, y: jax.Array | None) -> jax.Array:
        if self.num_classes is None:
            return h
        return jnp.concatenate([h, jax.nn.one_hot(y, self.num_classes)], axis=-1)

    def encode(self, x: jax.Array, y: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
        h = jax.nn.relu(self.enc(self._cond(x.reshape(x.shape[0], -1), y)))
        return self.mu(h), self.logvar(h)

    def decode_logits(self, z: jax.Array, y: jax.Array | None = None) -> jax.Array:
        return self.out(jax.nn.relu(self.dec(self._cond(z, y))))

    def loss_fn(self, batch: Any = None, step: Any = 0, **kwargs: Any) -> dict[str, jax.Array]:
        x, y = (batch["x"], batch["y"]) if isinstance(batch, dict) else (batch, None)
        if self.num_classes is not None and y is None:
            raise ValueError("conditional toy needs labels")
        mu, logvar = self.encode(x, y)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(self.rngs.sample(), mu.shape)
        logits = self.decode_logits(z, y)
        flat = x.reshape(x.shape[0], -1)
        recon = jnp.mean(jnp.sum(optax.sigmoid_binary_cross_entropy(logits, flat), axis=-1))
        kl = jnp.mean(jnp.sum(0.5 * (jnp.exp(logvar) + mu**2 - 1.0 - logvar), axis=-1))
        beta = jnp.minimum(1.0, jnp.asarray(step, jnp.float32) / 10.0)
        loss = recon + beta * kl
        if not self.deterministic:
            loss = jnp.where(jnp.asarray(step) >= self.nan_at_step[...], jnp.nan, loss)
        if not self.deterministic:
            self.seen[...] = self.seen[...] + x.shape[0]
        return {"loss": loss, "total_loss": loss, "reconstruction_loss": recon, "recon_loss": recon,
                "kl_loss": kl, "beta": beta}

    def sample(self, n_samples: int = 1, *, temperature: float = 1.0, y: Any = None, rngs: Any = None) -> jax.Array:
        z = temperature * jax.random.normal(self.rngs.sample(), (n_samples, self.latent_dim))
        return jax.nn.sigmoid(self.decode_logits(z, y)).reshape(n_samples, *self.input_shape)

    def reconstruct(self, x: jax.Array, *, deterministic: bool = False, y: Any = None, rngs: Any = None) -> jax.Array:
        mu, _ = self.encode(x, y)
        return jax.nn.sigmoid(self.decode_logits(mu, y)).reshape(x.shape)

    def latent_traversal(self, x: jax.Array, dim: int, range_vals: tuple[float, float] = (-3.0, 3.0), steps: int = 10, *, rngs: Any = None) -> jax.Array:
        mu, _ = self.encode(x[None] if x.ndim == len(self.input_shape) else x[:1])
        z = jnp.repeat(mu, steps, axis=0).at[:, dim].set(jnp.linspace(*range_vals, steps))
        return jax.nn.sigmoid(self.decode_logits(z)).reshape(steps, *self.input_shape)


def toy_dataset(n_train: int = 256, n_test: int = 64, size: int = 6, seed: int = 0, labels: bool = True) -> Dataset:
    """Bars: class k lights row k of a ``size x size`` image (plus noise), uint8."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, size, n)
        x = (rng.random((n, size, size, 1)) < 0.1).astype(np.float32)
        x[np.arange(n), y, :, 0] = 1.0
        return (x * 255).astype(np.uint8), y

    xtr, ytr = make(n_train)
    xte, yte = make(n_test)
    return Dataset.from_arrays("bars", xtr, ytr if labels else None, xte, yte if labels else None)


DATA = toy_dataset()  # 256 train / 64 test bars, 6x6x1, 6 classes
BASE = {"epochs": 3, "batch_size": 32, "eval_batch_size": 32, "log_every": 4, "steps_per_dispatch": 2,
        "binarize": "dynamic"}  # the toy's likelihood is bce (a Trainer given "auto" has no model config to read)


def fit(
    run_dir: Path | None,
    *,
    seed: int = 0,
    resume: bool = False,
    callbacks: tuple[Callback, ...] = (),
    model_kwargs: dict[str, Any] | None = None,
    conditional: bool = False,
    **overrides: Any,
) -> tuple[ToyVAE, Trainer, FitResult]:
    model = ToyVAE((6, 6, 1), rngs=nnx.Rngs(seed), **(model_kwargs or {}))
    cfg = TrainConfig(**{**BASE, "seed": seed, **overrides})
    trainer = Trainer(model, cfg, DATA, run_dir=run_dir, conditional=conditional, callbacks=callbacks)
    return model, trainer, trainer.fit(resume=resume)


def params_of(model: nnx.Module) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]


