"""β-VAE (Higgins et al.) with linear β warmup, and Burgess et al.'s capacity-controlled variant.

* ``BetaVAE``: ``total = reconstruction + β(t)·KL`` with ``β(t) = min(β, β·t/T)`` when ``T > 0``;
  without ``step`` (or with ``T = 0``) β is ``beta_default``. ``losses["beta"]`` holds the β used.
* ``BetaVAEWithCapacity``: ``C(t) = min(C_max, C_max·t/T_C)`` (``C_max`` without ``step``),
  ``capacity_loss = γ·|KL − C|``, ``kl_capacity_diff = KL − C``, ``current_capacity = C``; with
  ``use_capacity_control`` the total is ``reconstruction + capacity_loss``. With control off the total is
  the BetaVAE total and the capacity terms are reported as diagnostics only.

Example:
    >>> from flax import nnx
    >>> from artifex_plugins.vae.encoders import MLPEncoder
    >>> from artifex_plugins.vae.decoders import MLPDecoder
    >>> rngs = nnx.Rngs(0)
    >>> m = BetaVAE(MLPEncoder([8], 2, input_dim=(6,), rngs=rngs), MLPDecoder([8], (6,), 2, rngs=rngs),
    ...             latent_dim=2, beta_default=4.0, beta_warmup_steps=100, rngs=rngs)
    >>> float(m.beta_at(25)), float(m.beta_at(None))
    (1.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae.base import VAE

__all__ = ["BetaVAE", "BetaVAEWithCapacity"]


def _linear_ramp(maximum: float, step: Any, num_steps: int) -> jax.Array:
    """``min(maximum, maximum * max(step, 0) / num_steps)`` as a float32 array (works on traced steps)."""
    t = jnp.maximum(jnp.asarray(step, jnp.float32), 0.0)
    return jnp.minimum(jnp.float32(maximum), jnp.float32(maximum) * t / num_steps)


class BetaVAE(VAE):
    """Beta Variational Autoencoder for disentanglement.

    Args:
        encoder: Encoder network.
        decoder: Decoder network.
        latent_dim: Latent space dimension.
        beta_default: β weighting the KL term.
        beta_warmup_steps: Steps of linear β annealing from 0 (0 = no annealing).
        reconstruction_loss_type: Registered reconstruction loss ("mse", "bce", "l1", ...).
        rngs: Random number generators.
        reconstruction_loss_kwargs: The loss's own parameters (see :class:`VAE`).
        precision: Matmul/conv precision passed to the layers (see :class:`VAE`).

    Raises:
        ValueError: For a negative ``beta_warmup_steps`` or an unknown loss.

    Example:
        >>> # losses = beta_vae.loss_fn(x=batch, step=step); losses["beta"] is the β used
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        beta_default: float = 1.0,
        beta_warmup_steps: int = 0,
        reconstruction_loss_type: str = "mse",
        *,
        rngs: nnx.Rngs,
        precision: jax.lax.Precision | None = None,
        reconstruction_loss_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if int(beta_warmup_steps) < 0:
            raise ValueError(f"beta_warmup_steps must be >= 0, got {beta_warmup_steps}")
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            rngs=rngs,
            kl_weight=beta_default,
            precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
            reconstruction_loss_kwargs=reconstruction_loss_kwargs,
        )
        self.beta_default = float(beta_default)
        self.beta_warmup_steps = int(beta_warmup_steps)

    def beta_at(self, step: Any = None) -> jax.Array:
        """β at training ``step``: ``min(β, β·step/T)`` when warming up, else ``beta_default``."""
        if step is None or self.beta_warmup_steps == 0:
            return jnp.float32(self.beta_default)
        return _linear_ramp(self.beta_default, step, self.beta_warmup_steps)

    def loss_terms(
        self,
        x: jax.Array,
        outputs: dict[str, Any],
        reconstruction_loss: jax.Array,
        *,
        beta: Any = None,
        step: Any = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The VAE's terms with ``β(step)`` (or ``beta``) weighting the KL, plus ``beta``: the β used."""
        beta_t = self.beta_at(step) if beta is None else jnp.asarray(beta, jnp.float32)
        terms = super().loss_terms(x, outputs, reconstruction_loss, beta=beta_t, step=step, **kwargs)
        return {**terms, "beta": beta_t}


class BetaVAEWithCapacity(BetaVAE):
    """β-VAE with Burgess et al. capacity control.

    Args:
        encoder: Encoder network.
        decoder: Decoder network.
        latent_dim: Latent space dimension.
        beta_default: β (used when capacity control is off).
        beta_warmup_steps: Steps of β annealing.
        reconstruction_loss_type: Registered reconstruction loss.
        use_capacity_control: Replace ``β·KL`` by ``γ·|KL − C(t)|``.
        capacity_max: Maximum capacity ``C_max`` in nats (per example).
        capacity_num_iter: Steps for ``C(t)`` to reach ``C_max`` (> 0).
        gamma: Weight of the capacity loss.
        rngs: Random number generators.
        reconstruction_loss_kwargs: The loss's own parameters (see :class:`VAE`).
        precision: Matmul/conv precision passed to the layers.

    Example:
        >>> # losses = capacity_vae.loss_fn(x=batch, step=step)
        >>> # losses["current_capacity"], losses["capacity_loss"], losses["kl_capacity_diff"]
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        beta_default: float = 1.0,
        beta_warmup_steps: int = 0,
        reconstruction_loss_type: str = "mse",
        use_capacity_control: bool = False,
        capacity_max: float = 25.0,
        capacity_num_iter: int = 25000,
        gamma: float = 1000.0,
        *,
        rngs: nnx.Rngs,
        precision: jax.lax.Precision | None = None,
        reconstruction_loss_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if int(capacity_num_iter) <= 0:
            raise ValueError(f"capacity_num_iter must be > 0, got {capacity_num_iter}")
        if capacity_max < 0:
            raise ValueError(f"capacity_max must be >= 0, got {capacity_max}")
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            beta_default,
            beta_warmup_steps,
            reconstruction_loss_type,
            rngs=rngs,
            precision=precision,
            reconstruction_loss_kwargs=reconstruction_loss_kwargs,
        )
        self.use_capacity_control = bool(use_capacity_control)
        self.capacity_max = float(capacity_max)
        self.capacity_num_iter = int(capacity_num_iter)
        self.gamma = float(gamma)

    def capacity_at(self, step: Any = None) -> jax.Array:
        """Capacity ``C(t) = min(C_max, C_max·t/T)``; ``C_max`` without a step."""
        if step is None:
            return jnp.float32(self.capacity_max)
        return _linear_ramp(self.capacity_max, step, self.capacity_num_iter)

    def loss_terms(
        self,
        x: jax.Array,
        outputs: dict[str, Any],
        reconstruction_loss: jax.Array,
        *,
        beta: Any = None,
        step: Any = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The β-VAE's terms plus ``current_capacity``, ``capacity_loss``, ``kl_capacity_diff``; with capacity
        control, ``loss = reconstruction + capacity_loss``."""
        terms = super().loss_terms(x, outputs, reconstruction_loss, beta=beta, step=step, **kwargs)
        capacity = self.capacity_at(step)
        diff = terms["kl_loss"] - capacity
        capacity_loss = self.gamma * jnp.abs(diff)
        terms.update(current_capacity=capacity, capacity_loss=capacity_loss, kl_capacity_diff=diff)
        if self.use_capacity_control:
            terms["loss"] = reconstruction_loss + capacity_loss
        return terms
