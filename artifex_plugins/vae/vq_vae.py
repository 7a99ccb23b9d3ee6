"""Vector-Quantized VAE (van den Oord et al., 2017) with an optional EMA codebook.

A :class:`~artifex_plugins.vae.VAE` that composes a different latent strategy,
:class:`~artifex_plugins.vae.VectorQuantizedLatent` (``model.latent``, which holds the codebook and
its code statistics); everything else is the base's pipeline:

* Latents are the encoder's mean ``z_e``: flat ``(B, D)`` (each vector split into ``D // embedding_dim``
  codes) or spatial ``(B, H, W, D)`` from the CNN/ResNet encoders built with ``spatial=True`` (which skip
  their dense head).
* :meth:`VQVAE.quantize` is pure: nearest code, straight-through gradients, the codebook and commitment
  losses. Code-usage counts (a non-``Param`` :class:`~artifex_plugins.vae.CodeUsage` variable) and,
  with ``use_ema=True``, the EMA codebook are updated in the training path only: ``__call__`` (hence
  ``loss_fn``) while the module is in train mode (``model.train()``, the default; ``model.eval()`` freezes them).
* ``reconstruct``, ``interpolate``, ``latent_traversal``, ``sample`` and ``generate`` decode quantized
  codes. ``sample`` draws codes from the categorical prior of code frequencies seen in training (uniform
  before any), reshaped by temperature: ``p^(1/T)``, renormalised (``model.latent.prior_probs(T)``).
* Loss = reconstruction + codebook_loss + commitment_cost · commitment_loss.

Example:
    >>> # vqvae = VQVAE(encoder, decoder, latent_dim=64, num_embeddings=512, embedding_dim=64, rngs=rngs)
    >>> # quantized, aux = vqvae.quantize(z_e); aux["encoding_indices"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import jax
from flax import nnx

from artifex_plugins.vae._latents import CodeUsage, EMAState, VectorQuantizedLatent
from artifex_plugins.vae._submodules import draw_key
from artifex_plugins.vae.base import VAE

__all__ = ["CodeUsage", "EMAState", "VQVAE"]


def _latent_shape(encoder: nnx.Module, decoder: nnx.Module, latent_dim: int) -> tuple[int, ...] | None:
    """Per-example shape of ``z_e``: ``(latent_dim,)``, or ``(h, w, latent_dim)`` for a spatial encoder.

    The grid is the encoder's ``feature_grid`` (known once its input shape is), else the spatial decoder's
    (known from its ``output_dim``); None when neither says.
    """
    modules = (encoder, getattr(encoder, "encoder", None), decoder, getattr(decoder, "decoder", None))
    if not any(getattr(m, "spatial", False) for m in modules[:2]):
        return (latent_dim,)
    grid = next((g for g in (getattr(m, "feature_grid", None) for m in modules) if g is not None), None)
    return None if grid is None else (*grid, latent_dim)


class VQVAE(VAE):
    """Vector Quantized Variational Autoencoder.

    Args:
        encoder: Encoder; its mean is ``z_e`` (``(B, latent_dim)`` or ``(B, H, W, latent_dim)``).
        decoder: Decoder of quantized latents of the same shape.
        latent_dim: Latent width ``D``; a multiple of ``embedding_dim``.
        num_embeddings: Codebook size ``K``.
        embedding_dim: Width ``E`` of each code vector.
        commitment_cost: Weight of the commitment loss.
        rngs: Random number generators.
        use_ema: Update the codebook by exponential moving averages of its assignments (not by gradient).
        ema_decay: Decay of those averages.
        reconstruction_loss_type: Registered reconstruction loss.
        precision: Matmul precision for the layers and the code distances.
        reconstruction_loss_kwargs: The loss's own parameters (see :class:`VAE`).

    Raises:
        ValueError: If ``latent_dim`` is not a multiple of ``embedding_dim``, or a size/decay is invalid.

    Example:
        >>> # outputs = vqvae(x); outputs["z_e"], outputs["quantized"], outputs["perplexity"]
    """

    latent_type: ClassVar[str] = "codebook"
    """Declared latent: discrete codes of a ``num_embeddings`` codebook (outputs ``encoding_indices``)."""

    latent: VectorQuantizedLatent
    """The latent strategy: the codebook, its code statistics and the code prior."""

    legacy_state_paths: ClassVar[Mapping[tuple[str, ...], tuple[str, ...]]] = {
        (name,): ("latent", name) for name in ("codebook", "code_counts", "ema_cluster_size", "ema_embed_sum")
    }
    """artifex 0.1 kept the codebook and its statistics on the model itself: their checkpoints still load
    (see :mod:`artifex_core.training._state_paths`)."""

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        num_embeddings: int = 512,
        embedding_dim: int = 64,
        commitment_cost: float = 0.25,
        *,
        rngs: nnx.Rngs,
        use_ema: bool = False,
        ema_decay: float = 0.99,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
        reconstruction_loss_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(latent_dim, int) and latent_dim > 0 and latent_dim % embedding_dim:
            raise ValueError(
                f"latent_dim={latent_dim} must be a multiple of embedding_dim={embedding_dim} "
                "(each latent vector is split into latent_dim // embedding_dim codes)"
            )
        if not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
        if commitment_cost < 0:
            raise ValueError(f"commitment_cost must be >= 0, got {commitment_cost}")
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            rngs=rngs,
            precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
            reconstruction_loss_kwargs=reconstruction_loss_kwargs,
        )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.commitment_cost = float(commitment_cost)
        self.use_ema = bool(use_ema)
        self.ema_decay = float(ema_decay)
        self.latent = VectorQuantizedLatent(
            num_embeddings,
            embedding_dim,
            commitment_cost,
            key=rngs.params() if "params" in rngs else draw_key(rngs),
            latent_shape=_latent_shape(encoder, decoder, latent_dim),
            use_ema=use_ema,
            ema_decay=ema_decay,
            precision=precision,
        )

    def quantize(self, encoding: jax.Array, *, rngs: nnx.Rngs | None = None) -> tuple[jax.Array, dict[str, Any]]:
        """Quantize a continuous encoding with the codebook (pure; straight-through gradients).

        Returns:
            ``(quantized, aux)`` with aux keys ``commitment_loss``, ``codebook_loss``, ``encoding_indices``.
        """
        return self.latent.quantize(encoding)

    def code_usage(self) -> jax.Array:
        """How often each code was assigned in training, ``(num_embeddings,)`` (drawn as ``codebook_usage.png``)."""
        return self.latent.code_counts[...]
