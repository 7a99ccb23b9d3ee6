"""Vector-Quantized VAE (van den Oord et al., 2017) with an optional EMA codebook.

* Latents are the encoder's mean ``z_e``: flat ``(B, D)`` (each vector split into ``D // embedding_dim``
  codes) or spatial ``(B, H, W, D)`` from the CNN/ResNet encoders built with ``spatial=True`` (which skip
  their dense head).
* :meth:`VQVAE.quantize` is pure: nearest code, straight-through gradients, the codebook and commitment
  losses. Code-usage counts (a non-``Param`` :class:`CodeUsage` variable) and, with ``use_ema=True``,
  the EMA codebook are updated in the training path only: ``__call__`` (hence ``loss_fn``) while the
  module is in train mode (``model.train()``, the default; ``model.eval()`` freezes them).
* ``reconstruct``, ``interpolate``, ``latent_traversal``, ``sample`` and ``generate`` decode quantized
  codes. ``sample`` draws codes from the categorical prior of code frequencies seen in training (uniform
  before any), reshaped by temperature: ``p^(1/T)``, renormalised.
* Loss = reconstruction + codebook_loss + commitment_cost · commitment_loss.

Example:
    >>> # vqvae = VQVAE(encoder, decoder, latent_dim=64, num_embeddings=512, embedding_dim=64, rngs=rngs)
    >>> # quantized, aux = vqvae.quantize(z_e); aux["encoding_indices"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae.base import VAE, check_n_samples, draw_key
from artifex_plugins.vae.quantizer import code_shape, perplexity, split_codes, vector_quantize

__all__ = ["CodeUsage", "EMAState", "VQVAE"]

_EMA_EPS = 1e-5


class CodeUsage(nnx.Variable):
    """How often each code was assigned in training (not trained by gradient)."""


class EMAState(nnx.Variable):
    """EMA codebook and its statistics (updated by moving averages, never by gradient)."""


def _param_key(rngs: nnx.Rngs) -> jax.Array:
    return rngs.params() if "params" in rngs else draw_key(rngs)


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
        self.deterministic = False  # train mode; model.eval() sets True and freezes code statistics
        bound = (3.0 / embedding_dim) ** 0.5  # variance-scaling uniform (fan_in = embedding_dim), as Sonnet's
        init = jax.random.uniform(_param_key(rngs), (num_embeddings, embedding_dim), minval=-bound, maxval=bound)
        self.codebook = EMAState(init) if self.use_ema else nnx.Param(init)
        if self.use_ema:
            self.ema_cluster_size = EMAState(jnp.ones((num_embeddings,), jnp.float32))
            self.ema_embed_sum = EMAState(init)
        self.code_counts = CodeUsage(jnp.zeros((num_embeddings,), jnp.float32))
        self.latent_shape = self._infer_latent_shape()

    # -- quantization -------------------------------------------------------------------------------
    def quantize(self, encoding: jax.Array, *, rngs: nnx.Rngs | None = None) -> tuple[jax.Array, dict[str, Any]]:
        """Quantize a continuous encoding with the codebook (pure; straight-through gradients).

        Returns:
            ``(quantized, aux)`` with aux keys ``commitment_loss``, ``codebook_loss``, ``encoding_indices``.
        """
        return vector_quantize(encoding, self.codebook[...], self.precision)

    def code_usage(self) -> jax.Array:
        """How often each code was assigned in training, ``(num_embeddings,)`` (drawn as ``codebook_usage.png``)."""
        return self.code_counts[...]

    def decode_outputs(self, z: jax.Array, *, y: Any = None, rngs: nnx.Rngs | None = None) -> dict[str, jax.Array]:
        """Quantize ``z`` and decode it: ``z`` and ``quantized`` (the codes), ``decoder_output``, ``reconstructed``."""
        quantized, _ = self.quantize(z)
        raw = self._decode_raw(quantized, y, rngs)
        return {"z": quantized, "quantized": quantized, "decoder_output": raw, "reconstructed": self.likelihood.to_data(raw)}

    def codes_to_latent(self, indices: jax.Array) -> jax.Array:
        """Code indices ``(B, ..., D // E)`` to latent vectors ``(B, ..., D)``."""
        codes = jnp.take(self.codebook[...], indices, axis=0)
        return codes.reshape(*indices.shape[:-1], indices.shape[-1] * self.embedding_dim)

    def _update_code_statistics(self, z_e: jax.Array, indices: jax.Array) -> None:
        onehot = jax.nn.one_hot(indices.reshape(-1), self.num_embeddings, dtype=jnp.float32)
        assigned = jnp.sum(onehot, axis=0)
        self.code_counts[...] = self.code_counts[...] + assigned
        if not self.use_ema:
            return
        vectors = jax.lax.stop_gradient(split_codes(z_e, self.embedding_dim)).reshape(-1, self.embedding_dim)
        decay = self.ema_decay
        sizes = decay * self.ema_cluster_size[...] + (1.0 - decay) * assigned
        sums = decay * self.ema_embed_sum[...] + (1.0 - decay) * jnp.matmul(
            onehot.T, vectors.astype(jnp.float32), precision=self.precision
        )
        total = jnp.sum(sizes)
        smoothed = (sizes + _EMA_EPS) / (total + self.num_embeddings * _EMA_EPS) * total
        self.ema_cluster_size[...] = sizes
        self.ema_embed_sum[...] = sums
        self.codebook[...] = sums / smoothed[:, None]

    # -- shapes -------------------------------------------------------------------------------------
    def _infer_latent_shape(self) -> tuple[int, ...] | None:
        """Per-example shape of ``z_e``: ``(latent_dim,)`` or, for spatial encoders, ``(h, w, latent_dim)``."""
        spatial = getattr(self.encoder, "spatial", False) or getattr(
            getattr(self.encoder, "encoder", None), "spatial", False
        )
        if not spatial:
            return (self.latent_dim,)
        shapes = [s for s in reversed(self._example_shapes()) if len(s) >= 2]
        if not shapes:
            return None
        graphdef, state = nnx.split(self.encoder)

        def mean_of(state: Any, x: jax.Array) -> jax.Array:
            return self._check_encoding(nnx.merge(graphdef, state)(x))[0]

        out = jax.eval_shape(mean_of, state, jax.ShapeDtypeStruct((1, *shapes[0]), jnp.float32))
        return tuple(out.shape[1:])

    def _require_latent_shape(self) -> tuple[int, ...]:
        if self.latent_shape is None:
            raise ValueError("the spatial latent shape is unknown: give the encoder an input_dim or call the model once")
        return self.latent_shape

    # -- forward and loss ---------------------------------------------------------------------------
    def _forward(
        self, x: jax.Array, y: Any, rngs: nnx.Rngs | None, key: jax.Array
    ) -> tuple[dict[str, Any], jax.Array]:
        z_e = self._encode(x, y, rngs)[0]
        if self.latent_shape is None and not isinstance(z_e, jax.core.Tracer):
            self.latent_shape = tuple(z_e.shape[1:])
        quantized, aux = self.quantize(z_e)
        if not self.deterministic:
            self._update_code_statistics(z_e, aux["encoding_indices"])
        raw = self._decode_raw(quantized, y, rngs)
        reconstructed = self.likelihood.to_data(raw)
        outputs = {
            "reconstructed": reconstructed,
            "reconstruction": reconstructed,
            "mean": z_e,
            "z": quantized,
            "z_e": z_e,
            "quantized": quantized,
            "commitment_loss": aux["commitment_loss"],
            "codebook_loss": aux["codebook_loss"],
            "encoding_indices": aux["encoding_indices"],
            "perplexity": perplexity(aux["encoding_indices"], self.num_embeddings),
        }
        return outputs, raw

    def _raw_from_outputs(self, outputs: dict[str, Any], y: Any) -> jax.Array:
        return self._decode_raw(outputs["quantized"], y, None)

    def _assemble(self, recon: jax.Array, outputs: dict[str, Any], *, beta: Any, step: Any) -> dict[str, jax.Array]:
        commitment, codebook = outputs["commitment_loss"], outputs["codebook_loss"]
        vq_loss = codebook + self.commitment_cost * commitment
        total = recon + vq_loss
        terms = {
            "reconstruction_loss": recon,
            "recon_loss": recon,
            "commitment_loss": commitment,
            "codebook_loss": codebook,
            "vq_loss": vq_loss,
            "total_loss": total,
            "loss": total,
        }
        if "perplexity" in outputs:
            terms["perplexity"] = outputs["perplexity"]
        return terms

    # -- user-facing methods decode quantized codes -------------------------------------------------
    def _decode_latent(self, z: jax.Array, y: Any, rngs: nnx.Rngs | None) -> jax.Array:
        quantized, _ = self.quantize(z)
        return self.likelihood.to_data(self._decode_raw(quantized, y, rngs))

    def _reconstruct(self, x: jax.Array, y: Any, deterministic: bool, rngs: nnx.Rngs | None) -> jax.Array:
        return self._decode_latent(self._encode(x, y, rngs)[0], y, rngs)

    def reconstruct(
        self, x: jax.Array, *, deterministic: bool = False, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """Encode, quantize and decode (always deterministic: quantization has no noise)."""
        return self._reconstruct(x, None, deterministic, rngs)

    def prior_probs(self, temperature: float = 1.0) -> jax.Array:
        """The code prior: training frequencies (uniform before any) raised to ``1/temperature``, renormalised."""
        counts = self.code_counts[...]
        total = jnp.sum(counts)
        probs = jnp.where(total > 0, counts / jnp.maximum(total, 1.0), 1.0 / self.num_embeddings)
        return jax.nn.softmax(jnp.log(probs) / temperature)

    def sample(self, n_samples: int = 1, *, temperature: float = 1.0, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Draw codes from the temperature-reshaped code prior and decode them (data space).

        Raises:
            ValueError: If ``n_samples`` is not an integer >= 1 or ``temperature <= 0``.
        """
        n_samples = check_n_samples(n_samples, type(self).__name__)
        if isinstance(temperature, (int, float)) and temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        grid = code_shape(self._require_latent_shape(), self.embedding_dim)
        logits = jnp.log(self.prior_probs(temperature))
        indices = jax.random.categorical(self._next_key(rngs), logits, shape=(n_samples, *grid))
        return self.likelihood.to_data(self._decode_raw(self.codes_to_latent(indices), None, rngs))
