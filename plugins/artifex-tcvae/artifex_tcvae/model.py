"""β-TCVAE (Chen, Li, Grosse and Duvenaud, 2018): a VAE whose KL term is split and reweighted.

The loss, in nats per example, is

    reconstruction + α · index-code MI + β · total correlation + γ · dimension-wise KL

with the three terms estimated by minibatch-weighted sampling
(:func:`artifex_tcvae.estimators.mws_decomposition`). With ``α = β = γ = 1`` it is the VAE's loss in
expectation; the paper's β-TCVAE keeps ``α = γ = 1`` and raises β to penalise the total correlation
alone, which encourages statistically independent (disentangled) latents.

Only the public API of ``artifex_plugins.vae.VAE`` is used: ``__call__`` for the forward pass and
``loss_fn`` for the reconstruction and analytic KL.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_plugins.vae.encoders import MLPEncoder
    >>> from artifex_plugins.vae.decoders import MLPDecoder
    >>> rngs = nnx.Rngs(0)
    >>> model = BetaTCVAE(MLPEncoder([16], 4, input_dim=(8,), rngs=rngs), MLPDecoder([16], (8,), 4, rngs=rngs),
    ...                   latent_dim=4, beta=6.0, dataset_size=1000, rngs=rngs)
    >>> losses = model.loss_fn(x=jnp.ones((5, 8)))
    >>> sorted(k for k in losses if k in ("index_code_mi", "total_correlation", "dimension_wise_kl"))
    ['dimension_wise_kl', 'index_code_mi', 'total_correlation']
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_tcvae.estimators import mws_decomposition

__all__ = ["BetaTCVAE"]

_BATCH_KEYS = ("x", "image", "data")


def _weight(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _data(batch: Any, x: Any) -> Any:
    if x is not None:
        return x
    if isinstance(batch, dict):
        for key in _BATCH_KEYS:
            if key in batch:
                return batch[key]
        raise ValueError(f"batch dict needs one of {_BATCH_KEYS}, got keys {sorted(batch)}")
    if batch is None:
        raise ValueError("loss_fn needs the data: pass x=... or batch=...")
    return batch


class BetaTCVAE(VAE):
    """β-TCVAE: the ELBO's KL split into index-code MI, total correlation and dimension-wise KL.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``, each ``(B, latent_dim)``.
        decoder: Maps latents to raw outputs.
        latent_dim: Latent size (> 0).
        rngs: Random number generators.
        alpha: Weight of the index-code mutual information (paper: 1).
        beta: Weight of the total correlation (paper: 6 on dSprites).
        gamma: Weight of the dimension-wise KL (paper: 1).
        dataset_size: Training-set size ``N`` for minibatch-weighted sampling; None uses the batch size.
            ``loss_fn(..., dataset_size=N)`` overrides it for one call.
        reconstruction_loss_type: Registered reconstruction loss ("mse", "bce", "l1" or a plugin's).
        precision: Matmul/conv precision for encoder and decoder layers.

    Raises:
        ValueError: For a negative or non-finite weight or a non-positive ``dataset_size``.

    Example:
        >>> from flax import nnx
        >>> from artifex_core import ModelConfig, create_model
        >>> cfg = ModelConfig(model="tcvae", input_dim=(8,), latent_dim=2, hidden_dims=(16,),
        ...                   parameters={"beta": 6.0, "dataset_size": 737280})
        >>> type(create_model(cfg, rngs=nnx.Rngs(0))).__name__
        'BetaTCVAE'
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        alpha: float = 1.0,
        beta: float = 6.0,
        gamma: float = 1.0,
        dataset_size: int | None = None,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
    ) -> None:
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            rngs=rngs,
            precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
        )
        self.alpha = _weight("alpha", alpha)
        self.beta = _weight("beta", beta)
        self.gamma = _weight("gamma", gamma)
        if dataset_size is not None and (isinstance(dataset_size, bool) or not isinstance(dataset_size, int) or dataset_size <= 0):
            raise ValueError(f"dataset_size must be a positive integer or None, got {dataset_size!r}")
        self.dataset_size = dataset_size

    def loss_fn(
        self,
        params: dict | None = None,
        batch: dict | None = None,
        rng: jax.Array | None = None,
        x: jax.Array | None = None,
        outputs: dict[str, jax.Array] | None = None,
        beta: float | None = None,
        reconstruction_loss_fn: Callable | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The β-TCVAE loss, in nats per example.

        ``total_loss = reconstruction_loss + alpha * index_code_mi + beta * total_correlation
        + gamma * dimension_wise_kl``.

        Args:
            params: Ignored (trainer compatibility).
            batch: An array, or a dict with "x"/"image"/"data".
            rng: A key for the forward pass when ``outputs`` is None (else the model's own stream is used).
            x: Input data if not in batch.
            outputs: Precomputed outputs of ``__call__``; computed here when None.
            beta: Overrides the total-correlation weight for this call.
            reconstruction_loss_fn: ``(reconstructed, x) -> loss``; its value is the reconstruction loss.
            **kwargs: ``step`` (ignored), ``dataset_size`` (overrides the model's for this call).

        Returns:
            ``reconstruction_loss``, ``recon_loss``, ``kl_loss`` (analytic KL, for reference),
            ``index_code_mi``, ``total_correlation``, ``dimension_wise_kl``, ``total_loss`` and ``loss``.
        """
        dataset_size = kwargs.pop("dataset_size", None) or self.dataset_size
        if outputs is None:
            data = _data(batch, x)
            outputs = self(data, rngs=None if rng is None else nnx.Rngs(sample=rng))
        losses = super().loss_fn(
            params, batch, None, x, outputs, reconstruction_loss_fn=reconstruction_loss_fn, **kwargs
        )
        terms = mws_decomposition(outputs["z"], outputs["mean"], outputs["log_var"], dataset_size)
        tc_weight = self.beta if beta is None else beta
        total = (
            losses["reconstruction_loss"]
            + self.alpha * terms["index_code_mi"]
            + tc_weight * terms["total_correlation"]
            + self.gamma * terms["dimension_wise_kl"]
        )
        return {**losses, **terms, "total_loss": total, "loss": total}
