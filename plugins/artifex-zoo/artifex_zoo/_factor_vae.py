"""FactorVAE (Kim & Mnih, "Disentangling by Factorising", ICML 2018): a VAE penalising total correlation.

The VAE minimises, in nats per example,

    loss = reconstruction + KL(q(z|x) || N(0, I)) + γ · TC(z),    TC(z) = KL(q(z) || Π_j q(z_j))

with the total correlation estimated by the density-ratio trick: a discriminator ``D(z)``, the probability
that ``z`` comes from ``q(z)`` rather than from the product of its marginals, gives

    TC(z) ≈ E_q(z)[log D(z) / (1 - D(z))] = E_q(z)[logit D(z)].

``D`` is trained at the same time, with its own optimizer (Adam, lr 1e-4, β = (0.5, 0.9) in the paper), to
tell samples ``z ~ q(z)`` from ``permute_dims(z)`` (each latent dimension permuted independently across the
batch: samples of ``Π_j q(z_j)``):

    discriminator_loss = -½ (E_q[log D(z)] + E_perm[log(1 - D(z̃))]).

Both run in one train step through the trainer's parameter groups: the model declares its
``discriminator`` group, minimising ``discriminator_loss``; every other parameter minimises ``loss``. Each
group receives the gradient of its own loss only, so ``D`` is never moved by the VAE's loss (which does
reach it through the TC term) and the encoder never by the discriminator's. The permuted batch is the same
minibatch's latents (pythae and most reimplementations split one batch in two halves; the paper draws a
second batch), detached from the encoder.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_plugins.vae.encoders import MLPEncoder
    >>> from artifex_plugins.vae.decoders import MLPDecoder
    >>> rngs = nnx.Rngs(0)
    >>> model = FactorVAE(MLPEncoder([16], 3, input_dim=(8,), rngs=rngs), MLPDecoder([16], (8,), 3, rngs=rngs),
    ...                   latent_dim=3, gamma=10.0, discriminator_hidden=(32,), rngs=rngs)
    >>> losses = model.loss_fn(x=jnp.ones((6, 8)))
    >>> sorted(k for k in losses if k in ("total_correlation", "discriminator_loss", "discriminator_accuracy"))
    ['discriminator_accuracy', 'discriminator_loss', 'total_correlation']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_core.training import ParamGroup
from artifex_plugins.vae import VAE
from artifex_zoo._objective import penalised_terms

__all__ = ["Discriminator", "FactorVAE", "discriminator_loss", "permute_dims", "tc_estimate"]

DISCRIMINATOR_OPTIMIZER: dict[str, Any] = {
    "optimizer": "adam",
    "lr": 1e-4,
    "optimizer_kwargs": {"b1": 0.5, "b2": 0.9},
    "schedule": "constant",
    "weight_decay": None,
    "grad_clip": None,
}
"""The discriminator's optimizer (Kim & Mnih 2018, Appendix: Adam, lr 1e-4, β1 = 0.5, β2 = 0.9); a run
changes it with ``--set train.group_optimizers='{"discriminator": {"lr": 2e-4}}'``."""


def permute_dims(key: jax.Array, z: jax.Array) -> jax.Array:
    """Permute each latent dimension independently across the batch (Kim & Mnih 2018, Algorithm 1).

    Column ``j`` of the result is column ``j`` of ``z`` under its own random permutation, so the marginals
    ``q(z_j)`` are kept and the dependence between dimensions is broken: samples of ``Π_j q(z_j)``.

    Args:
        key: A PRNG key.
        z: Latents ``(B, D)``.

    Example:
        >>> z = jnp.arange(12.0).reshape(4, 3)
        >>> out = permute_dims(jax.random.key(0), z)
        >>> bool(jnp.all(jnp.sort(out, axis=0) == z))   # every column holds the same values
        True
    """
    batch, dims = z.shape
    perms = jax.vmap(lambda k: jax.random.permutation(k, batch))(jax.random.split(key, dims))  # (D, B)
    return jnp.take_along_axis(z, perms.T, axis=0)


def tc_estimate(logits: jax.Array) -> jax.Array:
    """The density-ratio estimate of the total correlation: ``mean(log D / (1 - D)) = mean(logit D)``.

    Example:
        >>> float(tc_estimate(jnp.array([1.0, 3.0])))
        2.0
    """
    return jnp.mean(logits)


def discriminator_loss(real_logits: jax.Array, permuted_logits: jax.Array) -> jax.Array:
    """``-½ (mean log D(z) + mean log(1 - D(z̃)))``, ``D = sigmoid(logit)``: the discriminator's cross-entropy.

    Example:
        >>> round(float(discriminator_loss(jnp.zeros(4), jnp.zeros(4))), 6)   # D = 1/2 everywhere: log 2
        0.693147
    """
    return -0.5 * (jnp.mean(jax.nn.log_sigmoid(real_logits)) + jnp.mean(jax.nn.log_sigmoid(-permuted_logits)))


class Discriminator(nnx.Module):
    """An MLP ``z -> logit D(z)`` with leaky ReLUs (slope 0.2), as in the paper (6 layers of 1000 units).

    Args:
        latent_dim: Input size.
        hidden: Hidden widths (``()``: a linear discriminator).
        rngs: Random number generators.
    """

    def __init__(self, latent_dim: int, hidden: Sequence[int], *, rngs: nnx.Rngs) -> None:
        widths = [latent_dim, *hidden]
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(widths[:-1], widths[1:])])
        self.head = nnx.Linear(widths[-1], 1, rngs=rngs)

    def __call__(self, z: jax.Array) -> jax.Array:
        """The logits ``(B,)``."""
        h = z
        for layer in self.layers:
            h = jax.nn.leaky_relu(layer(h), 0.2)
        return self.head(h)[:, 0]


class FactorVAE(VAE):
    """FactorVAE: the VAE loss plus γ times a discriminator's estimate of the total correlation of ``q(z)``.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``, each ``(B, latent_dim)``.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size (> 0).
        rngs: Random number generators.
        gamma: Weight γ of the total correlation (paper: 10 to 100 on dSprites).
        discriminator_hidden: Hidden widths of the discriminator (paper: five of 1000).
        reconstruction_loss_type: Registered reconstruction loss ("mse", "bce", "l1" or a plugin's).
        precision: Matmul/conv precision for encoder and decoder layers.

    Raises:
        ValueError: For a negative or non-finite ``gamma`` or a non-positive width.

    Example:
        >>> from artifex_core import ModelConfig, create_model
        >>> cfg = ModelConfig(model="factorvae", input_dim=(8,), latent_dim=2, hidden_dims=(16,),
        ...                   parameters={"gamma": 6.4, "discriminator_hidden": [32]})
        >>> type(create_model(cfg, rngs=nnx.Rngs(0))).__name__
        'FactorVAE'
    """

    optimizer_groups: ClassVar[dict[str, ParamGroup]] = {
        "discriminator": ParamGroup("discriminator", loss="discriminator_loss", optimizer=DISCRIMINATOR_OPTIMIZER)
    }
    """The trainer's parameter groups: the discriminator minimises ``discriminator_loss`` with its own Adam."""

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        gamma: float = 10.0,
        discriminator_hidden: Sequence[int] = (1000, 1000, 1000, 1000, 1000),
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        gamma = float(gamma)
        if not math.isfinite(gamma) or gamma < 0:
            raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
        widths = tuple(int(w) for w in discriminator_hidden)
        if any(w <= 0 for w in widths):
            raise ValueError(f"discriminator_hidden must hold positive widths, got {list(discriminator_hidden)!r}")
        self.gamma = gamma
        self.discriminator_hidden = widths
        self.discriminator = Discriminator(latent_dim, widths, rngs=rngs)

    def loss_terms(
        self,
        x: jax.Array,
        outputs: dict[str, Any],
        reconstruction_loss: jax.Array,
        *,
        beta: float | None = None,
        step: Any = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The FactorVAE objective and the discriminator's loss, from one forward pass.

        Returns:
            The VAE's terms (``reconstruction_loss``, ``kl_loss``), ``total_correlation`` (the density-ratio
            estimate), ``loss = reconstruction + kl_loss + gamma * total_correlation`` (the VAE's
            parameters minimise it), ``discriminator_loss`` (the discriminator minimises it) and
            ``discriminator_accuracy`` (on ``z`` and its permutation, threshold 1/2).
        """
        terms = super().loss_terms(x, outputs, reconstruction_loss, beta=beta, step=step, **kwargs)
        z = outputs["z"].reshape(outputs["z"].shape[0], -1)
        real = self.discriminator(z)
        tc = tc_estimate(real)
        detached = jax.lax.stop_gradient(z)
        permuted = permute_dims(self._next_key(None), detached)
        real_d, fake_d = self.discriminator(detached), self.discriminator(permuted)
        accuracy = 0.5 * (jnp.mean(real_d > 0) + jnp.mean(fake_d <= 0))
        reported = {
            "discriminator_loss": discriminator_loss(real_d, fake_d),
            "discriminator_accuracy": accuracy.astype(jnp.float32),
        }
        return penalised_terms(terms, {"total_correlation": (self.gamma, tc)}, extra=reported)
