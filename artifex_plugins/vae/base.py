"""The base Variational Autoencoder (Kingma & Welling), as documented on the VAE API reference page.

Conventions shared by the whole family:

* Randomness: every method takes ``rngs=None``; with ``None`` it draws from the model's own stream (an
  ``nnx.Rngs`` derived at construction from the ``rngs`` given, its "sample" stream when present, else
  "default"), which advances, so successive calls differ while the same seed gives the same results.
* Decoders return raw outputs; the reconstruction loss (a likelihood from the losses registry) maps them
  to data space. Everything a user sees (``reconstructed``, ``decode``, ``sample``, ``generate``,
  ``reconstruct``, ``interpolate``, ``latent_traversal``) is in data space: probabilities under "bce".
* Losses are nats per example: the reconstruction is summed over each example's data dimensions, the KL
  over latent dimensions, both averaged over the batch.
* The reconstruction term is a declared, public part of the model: :meth:`VAE.log_likelihood` (per-example
  ``log p(x | z)`` from the decoder outputs). ``loss_fn`` uses it (``reconstruction_loss = -mean
  log_likelihood``) and so do the likelihood metrics (the IWAE bound), so a variant that overrides it
  changes both. :attr:`VAE.normalized_likelihood` declares whether it is a normalised density (only then is
  a bound an NLL); :attr:`VAE.latent_type` declares the latent (``"gaussian"``: posterior
  ``N(mean, exp(log_var))`` from ``encode``, prior ``N(0, I)``).
* The latent is a composed strategy, ``model.latent`` (:mod:`artifex_plugins.vae._latents`): a
  :class:`~artifex_plugins.vae.GaussianLatent` here (reparameterized posterior, KL, ``N(0, I)``
  prior), a vector-quantized one in :class:`~artifex_plugins.vae.VQVAE`. The model runs encoder and decoder
  and asks the strategy for everything in between.
* The objective is :meth:`VAE.loss_terms` (public hook): ``loss_fn`` computes the reconstruction term,
  calls ``loss_terms`` and adds the spec's alias keys (:attr:`VAE.loss_aliases`). A variant changes the
  objective by overriding ``loss_terms``, never by copying ``loss_fn``.
* Conditions: the base never reads one. Its private pipeline passes a ``**condition`` keyword bag (``y=...``)
  through to :meth:`VAE._run_encoder` / :meth:`VAE._run_decoder`, which only conditional models override.
* Inputs are checked where they enter: an empty batch (``x.shape[0] == 0``) to ``__call__``, ``encode``,
  ``decode``, ``reconstruct`` or ``loss_fn``, and an ``n_samples`` that is not an integer >= 1, raise
  ``ValueError`` (shapes are static, so this holds under ``jit`` too).

See :class:`VAE` for an example.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae._inputs import batch_data, check_batch, check_encoder_output, check_n_samples
from artifex_plugins.vae._latents import LOG_VAR_MAX, LOG_VAR_MIN, GaussianLatent, LatentStrategy, reparameterize
from artifex_plugins.vae._losses import CallableLoss, resolve_loss
from artifex_plugins.vae._paths import decode_line, decode_sweep
from artifex_plugins.vae._submodules import apply_precision, call_module, draw_key

__all__ = [  # the helpers stay importable from here (plugins import them); they live in _inputs and _submodules
    "LOG_VAR_MAX",  # re-exported from latents
    "LOG_VAR_MIN",
    "VAE",
    "apply_precision",
    "call_module",
    "check_batch",
    "check_n_samples",
    "draw_key",
]


class VAE(nnx.Module):
    """Base class for Variational Autoencoders.

    Args:
        encoder: Maps inputs to ``(mean, log_var)``, each ``(B, latent_dim)``.
        decoder: Maps latents to raw outputs ``(B, *output_shape)``.
        latent_dim: Latent size (> 0).
        rngs: Random number generators; the model derives its own sampling stream from them.
        kl_weight: Weight of the KL term (beta).
        precision: Matmul/conv precision, set on every layer of encoder and decoder with a ``precision``.
        reconstruction_loss_type: Registered reconstruction loss ("mse", "bce", "l1" or a plugin's).
        reconstruction_loss_kwargs: The loss's own parameters (e.g. ``{"delta": 0.5}`` for a Huber loss),
            checked against its signature.

    Raises:
        ValueError: If ``latent_dim <= 0``, the loss name is unknown or it does not take a given parameter.

    Example:
        >>> from flax import nnx
        >>> from artifex_plugins.vae.encoders import MLPEncoder
        >>> from artifex_plugins.vae.decoders import MLPDecoder
        >>> rngs = nnx.Rngs(0)
        >>> vae = VAE(MLPEncoder([8], 2, input_dim=(6,), rngs=rngs), MLPDecoder([8], (6,), 2, rngs=rngs),
        ...           latent_dim=2, rngs=rngs)
        >>> vae.sample(3).shape
        (3, 6)
        >>> sorted(vae.loss_fn(x=jnp.ones((2, 6))))
        ['kl_loss', 'loss', 'recon_loss', 'reconstruction_loss', 'total_loss']
        >>> vae.latent_type, vae.normalized_likelihood  # "mse" lacks the Gaussian normaliser
        ('gaussian', False)
    """

    latent_type: ClassVar[str] = "gaussian"
    """The declared latent: ``"gaussian"`` (``encode`` gives ``(mean, log_var)``, the prior is ``N(0, I)``)."""

    loss_aliases: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"recon_loss": "reconstruction_loss", "total_loss": "loss"}
    )
    """The keys ``loss_fn`` adds as aliases of :meth:`loss_terms`' keys (the spec's "alias for compatibility");
    the trainer logs each value once, under the key it aliases."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A variant that redefines log_likelihood without saying whether it is normalised makes no claim.
        if "log_likelihood" in cls.__dict__ and "normalized_likelihood" not in cls.__dict__:
            cls.normalized_likelihood = False  # type: ignore[assignment]  # a class constant replaces the property

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        kl_weight: float = 1.0,
        precision: jax.lax.Precision | None = None,
        reconstruction_loss_type: str = "mse",
        reconstruction_loss_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim <= 0:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        if rngs is None:
            raise ValueError("rngs is required, e.g. rngs=nnx.Rngs(0)")
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.kl_weight = float(kl_weight)
        self.precision = precision
        self.reconstruction_loss_type = reconstruction_loss_type
        self.likelihood = resolve_loss(reconstruction_loss_type, reconstruction_loss_kwargs)
        self.rngs = nnx.Rngs(sample=draw_key(rngs))
        self.latent: LatentStrategy = GaussianLatent(latent_dim)
        """The latent strategy (:mod:`artifex_plugins.vae._latents`): posterior, regularizer, prior."""
        if precision is not None:
            apply_precision(encoder, precision)
            apply_precision(decoder, precision)

    # -- the pipeline: encoder -> latent strategy -> decoder -------------------------------------------
    # ``**condition`` is opaque here (``y=...`` of a conditional model): only _run_encoder/_run_decoder read it.
    def _next_key(self, rngs: nnx.Rngs | None) -> jax.Array:
        return draw_key(rngs if rngs is not None else self.rngs)

    def _run_encoder(self, x: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> Any:
        """The encoder's raw output for ``x`` (a conditional model reads its condition here)."""
        return call_module(self.encoder, x, rngs=rngs)

    def _run_decoder(self, z: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> jax.Array:
        """The decoder's raw output for decoder inputs ``z`` (a conditional model reads its condition here)."""
        return call_module(self.decoder, z, rngs=rngs)

    def _encode(self, x: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> tuple[jax.Array, jax.Array]:
        """Check the batch, run the encoder and check that it gave a ``(mean, log_var)`` pair."""
        check_batch(x, type(self).__name__)
        return check_encoder_output(self._run_encoder(x, rngs, **condition), self.latent_dim)

    def _decode(self, z: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> jax.Array:
        """Decode latents ``z`` in data space, through the strategy's decoder input (VQ: the nearest codes)."""
        return self.likelihood.to_data(self._run_decoder(self.latent.decoder_input(z), rngs, **condition))

    def _forward(
        self, x: jax.Array, key: jax.Array, rngs: nnx.Rngs | None = None, **condition: Any
    ) -> tuple[dict[str, Any], jax.Array]:
        """``__call__``'s outputs and the raw decoder outputs (kept for the reconstruction term)."""
        mean, log_var = self._encode(x, rngs, **condition)
        latents = self.latent.posterior(mean, log_var, key)
        raw = self._run_decoder(latents["z"], rngs, **condition)
        reconstructed = self.likelihood.to_data(raw)
        return {"reconstructed": reconstructed, "reconstruction": reconstructed, **latents}, raw

    def _reconstruct(
        self, x: jax.Array, deterministic: bool, rngs: nnx.Rngs | None, **condition: Any
    ) -> jax.Array:
        mean, log_var = self._encode(x, rngs, **condition)
        z = mean if deterministic else self.latent.sample_latent(mean, log_var, self._next_key(rngs))
        return self._decode(z, rngs, **condition)

    # -- loss_fn's condition ------------------------------------------------------------------------
    def _loss_condition(self, batch: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The ``**condition`` of a ``loss_fn`` call (taken out of ``kwargs``): none for an unconditional model."""
        return {}

    # -- public API ---------------------------------------------------------------------------------
    def encode(self, x: jax.Array, *, rngs: nnx.Rngs | None = None) -> tuple[jax.Array, jax.Array]:
        """Encode input to latent distribution parameters ``(mean, log_var)``.

        Raises:
            ValueError: If ``x`` is an empty batch, or the encoder output is not a (mean, log_var) pair of
                matching shapes.
        """
        return self._encode(x, rngs)

    def decode(self, z: jax.Array, *, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Decode latent vectors to reconstructions in data space.

        Raises:
            ValueError: If ``z`` is an empty batch.
        """
        check_batch(z, type(self).__name__, "z")
        return self.likelihood.to_data(self._run_decoder(z, rngs))

    @nnx.jit
    def reparameterize(self, mean: jax.Array, log_var: jax.Array, *, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Apply the reparameterization trick ``z = mean + exp(log_var / 2) * eps``.

        The log-variance is clipped to ``[-20, 20]``. Works eagerly and under jit.
        """
        return reparameterize(mean, log_var, self._next_key(rngs))

    def __call__(self, x: jax.Array, *, rngs: nnx.Rngs | None = None) -> dict[str, Any]:
        """Forward pass: keys reconstructed, reconstruction, mean, log_var, logvar, z.

        Raises:
            ValueError: If ``x`` is an empty batch.
        """
        return self._forward(x, self._next_key(rngs), rngs)[0]

    @property
    def normalized_likelihood(self) -> bool:
        """Whether :meth:`log_likelihood` is a normalised log-density of ``x`` (bce: yes; mse, l1: no).

        A subclass that overrides :meth:`log_likelihood` declares its own (a class attribute); without one
        it is ``False``.
        """
        return bool(getattr(self.likelihood, "normalized", False))

    def decode_outputs(self, z: jax.Array, *, y: Any = None, rngs: nnx.Rngs | None = None) -> dict[str, jax.Array]:
        """Decode latents ``z`` into what :meth:`log_likelihood` reads.

        Returns:
            ``z`` (the decoder's input: VQ-VAE quantizes it), ``decoder_output`` (raw decoder outputs, e.g.
            logits) and ``reconstructed`` (data space). Conditional models need ``y``.
        """
        z = self.latent.decoder_input(z)
        raw = self._run_decoder(z, rngs, y=y)
        return {"z": z, "decoder_output": raw, "reconstructed": self.likelihood.to_data(raw)}

    def log_likelihood(self, x: jax.Array, outputs: dict[str, Any], *, y: Any = None) -> jax.Array:
        """Per-example ``log p(x | z)``, summed over each example's data dimensions: shape ``(B,)``.

        ``loss_fn``'s reconstruction term is ``-mean(log_likelihood)``, and the IWAE bound weighs its
        samples with it: override this (not ``loss_fn``) to change the reconstruction term of a variant.

        Args:
            x: The data ``(B, ...)``.
            outputs: Outputs of ``__call__`` or :meth:`decode_outputs`: ``decoder_output`` when present,
                else ``reconstructed`` (identity-link likelihoods) or ``z`` decoded again.
            y: Conditions (conditional models decoding ``z`` again).

        Example:
            >>> # ll = vae.log_likelihood(x, vae(x)); -ll.mean() == vae.loss_fn(x=x, outputs=...)["recon_loss"]
        """
        raw = outputs.get("decoder_output")
        if raw is None:
            identity = self.likelihood.identity_link
            raw = outputs["reconstructed"] if identity else self._run_decoder(outputs["z"], None, y=y)
        return -self.likelihood.per_example(raw, x)

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
        """The objective's terms: the hook a variant overrides to change what ``loss_fn`` minimises.

        ``loss_fn`` computes the forward pass (once) and the reconstruction term, then calls this and adds
        :attr:`loss_aliases`. The base returns ``reconstruction_loss``, the latent strategy's regularizer
        terms (``kl_loss``; VQ-VAE: ``commitment_loss``, ``codebook_loss``, ``vq_loss``) and ``loss`` =
        reconstruction + penalty (``weight * kl_loss`` with ``weight = beta`` or ``kl_weight``).

        Args:
            x: The data of the batch.
            outputs: The forward pass (``__call__``'s outputs, or those given to ``loss_fn``).
            reconstruction_loss: ``-mean(log_likelihood)`` (or ``reconstruction_loss_fn``'s value), a scalar.
            beta: ``loss_fn``'s ``beta`` (the KL weight override).
            step: The training step, for schedules (None outside training).
            **kwargs: Any other keyword of ``loss_fn`` (a variant's own, e.g. ``dataset_size``).

        Returns:
            Scalars, keyed without aliases; at least ``reconstruction_loss`` and ``loss``.

        Example:
            >>> # class FreeBitsVAE(VAE):
            >>> #     def loss_terms(self, x, outputs, reconstruction_loss, **kwargs):
            >>> #         terms = super().loss_terms(x, outputs, reconstruction_loss, **kwargs)
            >>> #         return {**terms, "loss": reconstruction_loss + floored_kl(outputs)}
        """
        regularizer = self.latent.regularizer(outputs)
        weight = self.kl_weight if beta is None else beta
        total = reconstruction_loss + self.latent.penalty(regularizer, weight)
        return {"reconstruction_loss": reconstruction_loss, **regularizer, "loss": total}

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
        """Calculate the VAE loss (negative ELBO), in nats per example.

        Args:
            params: Ignored (trainer compatibility).
            batch: An array or a dict with "x"/"image"/"data" (and "y"/"label"/"labels" for conditional models).
            rng: A key for the forward pass when ``outputs`` is None (else the model's own stream is used).
            x: Input data if not in batch.
            outputs: Precomputed outputs of ``__call__``; computed here when None.
            beta: Overrides the KL weight.
            reconstruction_loss_fn: ``(reconstructed, x) -> loss``; its value is the reconstruction loss.
            **kwargs: ``step`` (for schedules), ``y`` (conditions), a variant's own (see :meth:`loss_terms`).

        Returns:
            :meth:`loss_terms` (reconstruction_loss, kl_loss, loss, plus a variant's own terms) with the
            aliases recon_loss and total_loss.

        Raises:
            ValueError: If the data is missing or an empty batch.
        """
        x = batch_data(batch, x, type(self).__name__)
        condition = self._loss_condition(batch, kwargs)
        raw = None
        if outputs is None:
            key = rng if rng is not None else self._next_key(None)
            outputs, raw = self._forward(x, key, **condition)
        if reconstruction_loss_fn is not None:
            recon = CallableLoss(reconstruction_loss_fn).batch_mean(outputs["reconstructed"], x)
        else:
            scored = outputs if raw is None else {**outputs, "decoder_output": raw}
            recon = -jnp.mean(self.log_likelihood(x, scored, **condition))
        terms = self.loss_terms(x, outputs, recon, beta=beta, **kwargs)
        return {**terms, **{alias: terms[key] for alias, key in self.loss_aliases.items() if key in terms}}

    def sample(self, n_samples: int = 1, *, temperature: float = 1.0, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Sample from the prior: ``z ~ N(0, temperature**2 I)``, decoded to data space.

        Raises:
            ValueError: If ``n_samples`` is not an integer >= 1.
        """
        n_samples = check_n_samples(n_samples, type(self).__name__)
        z = self.latent.prior_sample(self._next_key(rngs), n_samples, temperature)
        return self.likelihood.to_data(self._run_decoder(z, rngs))

    def generate(
        self, n_samples: int = 1, *, temperature: float = 1.0, rngs: nnx.Rngs | None = None, **kwargs: Any
    ) -> jax.Array:
        """Generate samples (alias for :meth:`sample`; extra keywords go to it)."""
        return self.sample(n_samples, temperature=temperature, rngs=rngs, **kwargs)

    def reconstruct(
        self, x: jax.Array, *, deterministic: bool = False, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """Reconstruct inputs; ``deterministic=True`` decodes the posterior mean (VQ-VAE: always its codes)."""
        return self._reconstruct(x, deterministic, rngs)

    def interpolate(
        self, x1: jax.Array, x2: jax.Array, steps: int = 10, *, rngs: nnx.Rngs | None = None
    ) -> jax.Array:
        """Decode ``steps`` points on the line between the posterior means of x1 and x2 (endpoints included).

        Deterministic: the first frame is ``reconstruct(x1, deterministic=True)``. ``x1``/``x2`` are single
        examples, with or without their batch axis.
        """
        return decode_line(self, x1, x2, steps, rngs)

    def latent_traversal(
        self,
        x: jax.Array,
        dim: int,
        range_vals: tuple[float, float] = (-3.0, 3.0),
        steps: int = 10,
        *,
        rngs: nnx.Rngs | None = None,
    ) -> jax.Array:
        """Decode the posterior mean of ``x`` with latent ``dim`` swept over ``range_vals`` (endpoints included).

        Raises:
            ValueError: If ``dim`` is outside ``[0, latent_dim)``.
        """
        return decode_sweep(self, x, dim, range_vals, steps, rngs)
