"""Latent strategies: what a VAE's latent is, how a posterior sample is drawn, regularized, and drawn from the prior.

A model of the family composes one strategy, ``model.latent``; the model runs encoder and decoder and asks
its strategy for everything in between (:class:`LatentStrategy`, the same six methods on both):

================== ===================================================== ==================================================
method             :class:`GaussianLatent` (VAE, β-VAE, CVAE, ...)        :class:`VectorQuantizedLatent` (VQ-VAE)
================== ===================================================== ==================================================
``posterior``      ``z = mean + exp(log_var / 2) * eps`` (reparameterized) ``z`` = nearest codes of ``z_e = mean`` (straight-through)
``sample_latent``  a reparameterized sample                              ``z_e`` itself (quantization has no noise)
``decoder_input``  ``z``                                                 the quantized ``z``
``regularizer``    ``kl_loss`` = KL(q(z|x) || N(0, I))                   ``codebook_loss``, ``commitment_loss``, ``vq_loss``
``penalty``        ``weight * kl_loss`` (β, the KL weight)               ``vq_loss`` = codebook + commitment_cost · commitment
``prior_sample``   ``z ~ N(0, T² I)``                                    codes ~ code frequencies ``p^(1/T)``, renormalised
================== ===================================================== ==================================================

``posterior`` returns the latent part of the model's ``__call__`` outputs; their ``"z"`` is what the decoder
reads. ``regularizer`` reads those outputs back and returns the loss terms it reports; ``penalty`` is what
those terms add to the reconstruction loss. Both are plain :class:`flax.nnx.Module` s: the Gaussian one
holds no state, the vector-quantized one holds the codebook and its code statistics.

Example:
    >>> import jax, jax.numpy as jnp
    >>> latent = GaussianLatent(2)
    >>> out = latent.posterior(jnp.zeros((3, 2)), jnp.zeros((3, 2)), jax.random.key(0))
    >>> sorted(out), float(latent.regularizer(out)["kl_loss"])
    (['log_var', 'logvar', 'mean', 'z'], 0.0)
"""

from __future__ import annotations

from typing import Any, Protocol

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae._losses import kl_divergence
from artifex_plugins.vae._quantizer import code_shape, perplexity, split_codes, vector_quantize

__all__ = [
    "LOG_VAR_MAX",
    "LOG_VAR_MIN",
    "CodeUsage",
    "EMAState",
    "GaussianLatent",
    "LatentStrategy",
    "VectorQuantizedLatent",
    "reparameterize",
]

LOG_VAR_MIN, LOG_VAR_MAX = -20.0, 20.0
"""Log-variances are clipped to this range before they are exponentiated."""

_EMA_EPS = 1e-5


def reparameterize(mean: jax.Array, log_var: jax.Array, key: jax.Array) -> jax.Array:
    """``mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)`` from ``key``; ``log_var`` clipped to ``[-20, 20]``.

    Example:
        >>> reparameterize(jnp.ones((2, 3)), jnp.full((2, 3), -100.0), jax.random.key(0)).round(3).tolist()[0]
        [1.0, 1.0, 1.0]
    """
    log_var = jnp.clip(log_var, LOG_VAR_MIN, LOG_VAR_MAX)
    eps = jax.random.normal(key, mean.shape, dtype=mean.dtype)
    return mean + jnp.exp(0.5 * log_var) * eps


class LatentStrategy(Protocol):
    """What a model of the family asks its latent (``model.latent``); see the table above."""

    def posterior(self, mean: jax.Array, log_var: jax.Array, key: jax.Array) -> dict[str, jax.Array]:
        """The latent outputs of ``__call__`` for the encoder's ``(mean, log_var)``; ``"z"`` feeds the decoder."""
        ...

    def sample_latent(self, mean: jax.Array, log_var: jax.Array, key: jax.Array) -> jax.Array:
        """A posterior latent for a stochastic reconstruction."""
        ...

    def decoder_input(self, z: jax.Array) -> jax.Array:
        """What the decoder reads for latents ``z``."""
        ...

    def regularizer(self, outputs: dict[str, Any]) -> dict[str, jax.Array]:
        """The loss terms the latent reports, read from ``__call__``'s outputs."""
        ...

    def penalty(self, terms: dict[str, jax.Array], weight: Any) -> jax.Array:
        """What those terms add to the reconstruction loss (``weight``: the model's KL weight)."""
        ...

    def prior_sample(self, key: jax.Array, n: int, temperature: float) -> jax.Array:
        """``n`` decoder inputs drawn from the prior."""
        ...


class GaussianLatent(nnx.Module):
    """Diagonal Gaussian posterior ``N(mean, exp(log_var))``, KL regularizer, standard normal prior.

    Args:
        latent_dim: Width of a latent vector (the prior draws ``(n, latent_dim)``).

    Example:
        >>> latent = GaussianLatent(3)
        >>> latent.prior_sample(jax.random.key(0), 4, temperature=0.5).shape
        (4, 3)
    """

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim

    def posterior(self, mean: jax.Array, log_var: jax.Array, key: jax.Array) -> dict[str, jax.Array]:
        """``mean``, ``log_var`` (and its alias ``logvar``) and a reparameterized sample ``z``."""
        return {"mean": mean, "log_var": log_var, "logvar": log_var, "z": reparameterize(mean, log_var, key)}

    def sample_latent(self, mean: jax.Array, log_var: jax.Array, key: jax.Array) -> jax.Array:
        """A posterior sample (``reconstruct(..., deterministic=False)``)."""
        return reparameterize(mean, log_var, key)

    def decoder_input(self, z: jax.Array) -> jax.Array:
        """What the decoder reads for latents ``z``: ``z`` itself."""
        return z

    def regularizer(self, outputs: dict[str, Any]) -> dict[str, jax.Array]:
        """``kl_loss``: ``KL(N(mean, exp(log_var)) || N(0, I))`` summed over latent dimensions, batch mean."""
        log_var = jnp.clip(outputs["log_var"], LOG_VAR_MIN, LOG_VAR_MAX)
        return {"kl_loss": jnp.mean(kl_divergence(outputs["mean"], log_var))}

    def penalty(self, terms: dict[str, jax.Array], weight: Any) -> jax.Array:
        """What the regularizer adds to the reconstruction loss: ``weight * kl_loss``."""
        return weight * terms["kl_loss"]

    def prior_sample(self, key: jax.Array, n: int, temperature: float) -> jax.Array:
        """``n`` latents from ``N(0, temperature**2 I)``: what the decoder reads."""
        return temperature * jax.random.normal(key, (n, self.latent_dim))


class CodeUsage(nnx.Variable):
    """How often each code was assigned in training (not trained by gradient)."""


class EMAState(nnx.Variable):
    """EMA codebook and its statistics (updated by moving averages, never by gradient)."""


class VectorQuantizedLatent(nnx.Module):
    """A codebook of ``num_embeddings`` vectors of width ``embedding_dim`` (van den Oord et al., 2017).

    The posterior is deterministic: the encoder's mean ``z_e`` (width ``D``, a multiple of ``E``, each
    vector split into ``D // E`` codes) is replaced by its nearest codes with straight-through gradients.
    In train mode (``deterministic=False``, the default; ``model.eval()`` sets it) every posterior also adds
    its assignments to ``code_counts`` and, with ``use_ema``, moves the codebook by exponential moving
    averages of the vectors assigned to each code (the codebook is then not a :class:`~flax.nnx.Param`).

    Args:
        num_embeddings: Codebook size ``K``.
        embedding_dim: Width ``E`` of a code.
        commitment_cost: Weight of the commitment loss in ``vq_loss``.
        key: Initialises the codebook (variance-scaling uniform, fan-in ``E``).
        latent_shape: Shape of one example's ``z_e``, ``(D,)`` or ``(h, w, D)``, for the prior; None if unknown.
        use_ema: Update the codebook by moving averages instead of by gradient.
        ema_decay: Decay of those averages.
        precision: Matmul precision of the code distances.

    Example:
        >>> vq = VectorQuantizedLatent(4, 2, 0.25, key=jax.random.key(0), latent_shape=(2,))
        >>> out = vq.posterior(vq.codebook[...][:1], jnp.zeros((1, 2)), jax.random.key(1))
        >>> out["encoding_indices"].tolist(), float(vq.regularizer(out)["vq_loss"])
        ([[0]], 0.0)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        commitment_cost: float,
        *,
        key: jax.Array,
        latent_shape: tuple[int, ...] | None,
        use_ema: bool = False,
        ema_decay: float = 0.99,
        precision: jax.lax.Precision | None = None,
    ) -> None:
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.commitment_cost = float(commitment_cost)
        self.latent_shape = latent_shape
        self.use_ema = bool(use_ema)
        self.ema_decay = float(ema_decay)
        self.precision = precision
        self.deterministic = False  # train mode; model.eval() sets True and freezes code statistics
        bound = (3.0 / embedding_dim) ** 0.5  # variance-scaling uniform (fan_in = embedding_dim), as Sonnet's
        init = jax.random.uniform(key, (num_embeddings, embedding_dim), minval=-bound, maxval=bound)
        self.codebook = EMAState(init) if self.use_ema else nnx.Param(init)
        if self.use_ema:
            self.ema_cluster_size = EMAState(jnp.ones((num_embeddings,), jnp.float32))
            self.ema_embed_sum = EMAState(init)
        self.code_counts = CodeUsage(jnp.zeros((num_embeddings,), jnp.float32))

    def quantize(self, encoding: jax.Array) -> tuple[jax.Array, dict[str, Any]]:
        """Nearest codes of ``encoding`` (pure): ``(quantized, aux)`` with the codebook and commitment losses."""
        return vector_quantize(encoding, self.codebook[...], self.precision)

    def posterior(self, mean: jax.Array, log_var: jax.Array, key: jax.Array) -> dict[str, jax.Array]:
        """Quantize ``z_e = mean`` (``log_var`` and ``key`` are unused); update the code statistics in train mode.

        Returns:
            ``mean`` (``z_e``), ``z`` (the quantized latent the decoder reads), ``z_e``, ``quantized``,
            ``commitment_loss``, ``codebook_loss``, ``encoding_indices`` and ``perplexity``.
        """
        quantized, aux = self.quantize(mean)
        if not self.deterministic:
            self._update_statistics(mean, aux["encoding_indices"])
        return {
            "mean": mean,
            "z": quantized,
            "z_e": mean,
            "quantized": quantized,
            **aux,
            "perplexity": perplexity(aux["encoding_indices"], self.num_embeddings),
        }

    def sample_latent(self, mean: jax.Array, log_var: jax.Array, key: jax.Array) -> jax.Array:
        """``z_e`` itself: quantization has no noise, so every reconstruction is deterministic."""
        return mean

    def decoder_input(self, z: jax.Array) -> jax.Array:
        """The quantized ``z`` (``interpolate`` and ``latent_traversal`` decode codes, not ``z_e``)."""
        return self.quantize(z)[0]

    def regularizer(self, outputs: dict[str, Any]) -> dict[str, jax.Array]:
        """``commitment_loss``, ``codebook_loss``, ``vq_loss = codebook + commitment_cost * commitment`` (and
        ``perplexity`` when the outputs have it)."""
        commitment, codebook = outputs["commitment_loss"], outputs["codebook_loss"]
        terms = {
            "commitment_loss": commitment,
            "codebook_loss": codebook,
            "vq_loss": codebook + self.commitment_cost * commitment,
        }
        if "perplexity" in outputs:
            terms["perplexity"] = outputs["perplexity"]
        return terms

    def penalty(self, terms: dict[str, jax.Array], weight: Any) -> jax.Array:
        """``vq_loss``: the VQ objective has no KL, so the KL ``weight`` does not apply."""
        return terms["vq_loss"]

    def prior_probs(self, temperature: float = 1.0) -> jax.Array:
        """The code prior: training frequencies (uniform before any) raised to ``1/temperature``, renormalised."""
        counts = self.code_counts[...]
        total = jnp.sum(counts)
        probs = jnp.where(total > 0, counts / jnp.maximum(total, 1.0), 1.0 / self.num_embeddings)
        return jax.nn.softmax(jnp.log(probs) / temperature)

    def codes_to_latent(self, indices: jax.Array) -> jax.Array:
        """Code indices ``(B, ..., D // E)`` to latent vectors ``(B, ..., D)``."""
        codes = jnp.take(self.codebook[...], indices, axis=0)
        return codes.reshape(*indices.shape[:-1], indices.shape[-1] * self.embedding_dim)

    def prior_sample(self, key: jax.Array, n: int, temperature: float) -> jax.Array:
        """``n`` latents of codes drawn from :meth:`prior_probs`: what the decoder reads.

        Raises:
            ValueError: If ``temperature <= 0`` or the latent shape is unknown.
        """
        if isinstance(temperature, (int, float)) and temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if self.latent_shape is None:
            raise ValueError(
                "the spatial latent shape is unknown: give the encoder an input_dim or use a decoder with a "
                "feature_grid"
            )
        grid = code_shape(self.latent_shape, self.embedding_dim)
        indices = jax.random.categorical(key, jnp.log(self.prior_probs(temperature)), shape=(n, *grid))
        return self.codes_to_latent(indices)

    def _update_statistics(self, z_e: jax.Array, indices: jax.Array) -> None:
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
