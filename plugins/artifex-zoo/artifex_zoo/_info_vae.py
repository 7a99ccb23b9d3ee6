"""InfoVAE (Zhao, Song and Ermon 2019); with ``alpha = 1`` the MMD-VAE.

    loss = reconstruction + (1 - alpha) * KL(q(z|x) || p(z)) + (alpha + lambda - 1) * MMD(q(z), p(z))

The KL is the analytic per-example one (batch mean); ``MMD(q(z), p(z))`` is the unbiased estimate
(:func:`artifex_zoo.mmd_unbiased`) between the batch's posterior samples ``z ~ q(z|x)`` and as many draws from
``p(z) = N(0, I)``, with the RBF or IMQ kernel of scale ``C = 2 * latent_dim * kernel_bandwidth^2``.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_core import ModelConfig, create_model
    >>> cfg = ModelConfig(model="info_vae", input_dim=(6,), latent_dim=2, hidden_dims=(8,),
    ...                   parameters={"alpha": 1.0, "lambda_": 10.0})
    >>> model = create_model(cfg, rngs=nnx.Rngs(0))
    >>> "mmd_loss" in model.loss_fn(x=jnp.ones((4, 6)))
    True
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_plugins.vae.base import draw_key
from artifex_zoo._mmd import KERNELS, mmd_unbiased
from artifex_zoo._objective import penalised_terms

__all__ = ["InfoVAE"]


class InfoVAE(VAE):
    """InfoVAE / MMD-VAE.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size.
        rngs: Random number generators (the prior draws come from the model's stream).
        alpha: The KL weighs ``1 - alpha`` (``alpha <= 1``; MMD-VAE: 1).
        lambda_: The MMD weighs ``alpha + lambda_ - 1`` (must be >= 0).
        kernel: ``"rbf"`` or ``"imq"``.
        kernel_bandwidth: sigma of the kernel scale ``C = 2 * latent_dim * sigma^2``.
        reconstruction_loss_type: Registered likelihood.
        precision: Matmul precision of the layers.

    Raises:
        ValueError: For ``alpha > 1``, a negative MMD weight, an unknown kernel or a non-positive bandwidth.
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        alpha: float = 0.0,
        lambda_: float = 10.0,
        kernel: str = "imq",
        kernel_bandwidth: float = 1.0,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder, decoder, latent_dim, rngs=rngs, kl_weight=1.0 - float(alpha), precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        if not (math.isfinite(alpha) and alpha <= 1):
            raise ValueError(f"alpha must be a finite number <= 1, got {alpha!r}")
        if not alpha + lambda_ - 1 >= 0:
            raise ValueError(f"the MMD weight alpha + lambda_ - 1 must be >= 0, got {alpha + lambda_ - 1!r}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        if not kernel_bandwidth > 0:
            raise ValueError(f"kernel_bandwidth must be > 0, got {kernel_bandwidth!r}")
        self.alpha, self.lambda_, self.kernel = float(alpha), float(lambda_), kernel
        self.kernel_scale = 2.0 * latent_dim * float(kernel_bandwidth) ** 2

    def loss_terms(
        self, x: jax.Array, outputs: dict[str, Any], reconstruction_loss: jax.Array, **kwargs: Any
    ) -> dict[str, jax.Array]:
        """The VAE's terms (KL weighted ``1 - alpha``) plus ``mmd_loss`` weighted ``alpha + lambda_ - 1``."""
        terms = super().loss_terms(x, outputs, reconstruction_loss, **kwargs)
        z = outputs["z"].reshape(outputs["z"].shape[0], -1)
        prior = jax.random.normal(draw_key(self.rngs), z.shape, z.dtype)
        mmd = mmd_unbiased(z, prior, self.kernel, scale=self.kernel_scale)
        return penalised_terms(terms, {"mmd_loss": (self.alpha + self.lambda_ - 1.0, mmd)})
