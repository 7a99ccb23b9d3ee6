"""β-TCVAE (Chen, Li, Grosse and Duvenaud, 2018): a VAE whose KL term is split and reweighted.

The loss, in nats per example, is

    reconstruction + α · index-code MI + β · total correlation + γ · dimension-wise KL

with the three terms estimated by minibatch-weighted sampling
(:func:`artifex_tcvae.estimators.mws_decomposition`). With ``α = β = γ = 1`` it is the VAE's loss in
expectation; the paper's β-TCVAE keeps ``α = γ = 1`` and raises β to penalise the total correlation
alone, which encourages statistically independent (disentangled) latents.

Only the public API of ``artifex_plugins.vae.VAE`` is used: the model overrides its ``loss_terms`` hook,
so ``loss_fn`` (the VAE's) runs the forward pass and decodes once, and the decomposition reads that pass.

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
from typing import Any

import jax
from flax import nnx

from artifex_plugins.vae import VAE
from artifex_tcvae.estimators import mws_decomposition

__all__ = ["BetaTCVAE"]


def _weight(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


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

    def loss_terms(
        self,
        x: jax.Array,
        outputs: dict[str, Any],
        reconstruction_loss: jax.Array,
        *,
        beta: float | None = None,
        step: Any = None,
        dataset_size: int | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The β-TCVAE objective, in nats per example (``loss_fn``'s hook: one forward pass, one decode).

        ``loss = reconstruction_loss + alpha * index_code_mi + beta * total_correlation
        + gamma * dimension_wise_kl``.

        Args:
            x: The data.
            outputs: The forward pass: its ``z``, ``mean`` and ``log_var`` are decomposed.
            reconstruction_loss: The reconstruction term ``loss_fn`` computed.
            beta: ``loss_fn(..., beta=...)``: overrides the total-correlation weight for this call.
            step: Ignored (no schedule).
            dataset_size: ``loss_fn(..., dataset_size=N)``: overrides the model's for this call.
            **kwargs: Passed on to the VAE's terms.

        Returns:
            The VAE's terms (``reconstruction_loss``, the analytic ``kl_loss`` for reference), ``index_code_mi``,
            ``total_correlation``, ``dimension_wise_kl`` and ``loss``; ``loss_fn`` adds ``recon_loss`` and
            ``total_loss``.
        """
        terms = super().loss_terms(x, outputs, reconstruction_loss, step=step, **kwargs)
        parts = mws_decomposition(outputs["z"], outputs["mean"], outputs["log_var"], dataset_size or self.dataset_size)
        tc_weight = self.beta if beta is None else beta
        total = (
            reconstruction_loss
            + self.alpha * parts["index_code_mi"]
            + tc_weight * parts["total_correlation"]
            + self.gamma * parts["dimension_wise_kl"]
        )
        return {**terms, **parts, "loss": total}
