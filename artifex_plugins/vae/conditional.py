"""Conditional VAE (Sohn et al.): encoder and decoder both see a class condition ``y``.

The condition ``y`` is given as integer labels ``(B,)`` or one-hot rows ``(B, condition_dim)`` (integer
arrays are labels, floating or boolean arrays one-hot rows, as the wrappers read them). A single condition
(an int, a 0-d array or one one-hot row) is broadcast over the batch.

* ``y`` is **required** by ``__call__``, ``encode``, ``decode``, ``reconstruct``, ``interpolate``,
  ``latent_traversal`` and ``loss_fn`` (``y=...`` or the batch's "y"/"label"/"labels"): without it they
  raise ``ValueError``. ``sample`` without ``y`` draws each sample's class uniformly at random from the
  model's rng stream (or ``rngs``).
* Integer labels outside ``[0, condition_dim)`` (e.g. -1, or 10 for 10 classes) raise ``ValueError``
  naming the value and its index when the labels are concrete. Under ``jit`` nothing can raise: the
  wrappers' :class:`~artifex_plugins.vae.LabelEmbedding` turns such labels into NaN embeddings, so
  the affected outputs and the loss are NaN (the trainer's NaN guard stops the run); a label is never
  wrapped to another class.

The condition is passed as ``condition=`` to the encoder and decoder, normally the
:class:`~artifex_plugins.vae.encoders.ConditionalEncoder` / ``ConditionalDecoder`` wrappers.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from artifex_plugins.vae.decoders import ConditionalDecoder, MLPDecoder
    >>> from artifex_plugins.vae.encoders import ConditionalEncoder, MLPEncoder
    >>> rngs = nnx.Rngs(0)
    >>> enc = ConditionalEncoder(MLPEncoder([8], 2, rngs=rngs), num_classes=3, embed_dim=4, rngs=rngs)
    >>> dec = ConditionalDecoder(MLPDecoder([8], (6,), 2, rngs=rngs), num_classes=3, embed_dim=4, rngs=rngs)
    >>> cvae = ConditionalVAE(enc, dec, latent_dim=2, condition_dim=3, rngs=rngs)
    >>> cvae(jnp.ones((2, 6)), y=jnp.array([0, 2]))["z"].shape
    (2, 2)
    >>> cvae.sample(4).shape  # classes drawn uniformly at random
    (4, 6)
    >>> cvae(jnp.ones((2, 6)), y=jnp.array([0, 3]))
    Traceback (most recent call last):
    ...
    ValueError: ConditionalVAE: class label 3 at index 1 is outside [0, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae._inputs import check_batch, check_n_samples
from artifex_plugins.vae._layers import check_labels
from artifex_plugins.vae._paths import decode_line, decode_sweep
from artifex_plugins.vae._submodules import accepts, call_module
from artifex_plugins.vae.base import VAE

__all__ = ["ConditionalVAE", "CONDITION_TYPES"]

_ACCEPTED = "integer labels (B,) or a single int, or one-hot rows (B, {c}) or one row ({c},)"
_LABEL_KEYS = ("y", "label", "labels")

CONDITION_TYPES = ("concat",)
"""Conditioning strategies: "concat" (the wrappers join a label embedding to their input)."""


class ConditionalVAE(VAE):
    """Conditional Variational Autoencoder.

    Args:
        encoder: Conditional encoder, called as ``encoder(x, condition=y)``.
        decoder: Conditional decoder, called as ``decoder(z, condition=y)``.
        latent_dim: Latent dimension.
        condition_dim: Number of classes (the one-hot width).
        condition_type: Conditioning strategy; "concat".
        rngs: Random number generators (``nnx.Rngs(0)`` when None).
        kl_weight: Weight of the KL term.
        reconstruction_loss_type: Registered reconstruction loss.
        precision: Matmul/conv precision passed to the layers.
        reconstruction_loss_kwargs: The loss's own parameters (see :class:`VAE`).

    Raises:
        ValueError: For an unknown ``condition_type``, modules that take no ``condition``, or a
            ``condition_dim`` that differs from the wrappers' ``num_classes``. The methods raise
            ``ValueError`` for a missing ``y`` (all but ``sample``), labels outside ``[0, condition_dim)``
            and conditions of the wrong shape (see the module docstring for the behaviour under ``jit``).

    Example:
        >>> # cvae.sample(n_samples=4, y=jnp.array([5, 5, 5, 5]))
    """

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        latent_dim: int,
        condition_dim: int = 10,
        condition_type: str = "concat",
        *,
        rngs: nnx.Rngs | None = None,
        kl_weight: float = 1.0,
        reconstruction_loss_type: str = "mse",
        precision: jax.lax.Precision | None = None,
        reconstruction_loss_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if condition_type not in CONDITION_TYPES:
            raise ValueError(f"condition_type must be one of {CONDITION_TYPES}, got {condition_type!r}")
        if isinstance(condition_dim, bool) or not isinstance(condition_dim, int) or condition_dim <= 0:
            raise ValueError(f"condition_dim must be a positive integer, got {condition_dim!r}")
        for role, module in (("encoder", encoder), ("decoder", decoder)):
            if not accepts(type(module), "condition"):
                raise ValueError(
                    f"ConditionalVAE's {role} must accept condition=...; wrap it in Conditional{role.title()}"
                )
            classes = getattr(module, "num_classes", None)
            if isinstance(classes, int) and classes != condition_dim:
                raise ValueError(f"condition_dim={condition_dim} differs from the {role}'s num_classes={classes}")
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            rngs=rngs if rngs is not None else nnx.Rngs(0),
            kl_weight=kl_weight,
            precision=precision,
            reconstruction_loss_type=reconstruction_loss_type,
            reconstruction_loss_kwargs=reconstruction_loss_kwargs,
        )
        self.condition_dim = condition_dim
        self.condition_type = condition_type

    # -- conditions ---------------------------------------------------------------------------------
    def _require_y(self, y: Any) -> None:
        if y is None:
            accepted = _ACCEPTED.format(c=self.condition_dim)
            raise ValueError(f"{type(self).__name__}: y is required: pass y= as {accepted}")

    def _condition(self, y: Any, n: int) -> jax.Array:
        """Labels ``(n,)`` or one-hot rows ``(n, condition_dim)`` for a batch of ``n``.

        Integer arrays are labels; floating or boolean arrays are one-hot (or soft) rows, as the
        conditional wrappers read them. A scalar label or a single row is broadcast over the batch.

        Raises:
            ValueError: If ``y`` is None, has the wrong shape, or holds concrete labels outside
                ``[0, condition_dim)``.
        """
        self._require_y(y)
        check_labels(y, self.condition_dim, type(self).__name__)
        y = jnp.asarray(y)
        is_int = jnp.issubdtype(y.dtype, jnp.integer)
        if y.ndim == 0:
            return jnp.broadcast_to(y.astype(jnp.int32), (n,))
        if y.ndim == 1 and not is_int:
            y = y[None]  # one one-hot row
        if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != self.condition_dim):
            accepted = _ACCEPTED.format(c=self.condition_dim)
            raise ValueError(f"{type(self).__name__}: y must be {accepted}, got shape {y.shape}")
        if y.shape[0] == 1 and n != 1:
            return jnp.broadcast_to(y, (n, *y.shape[1:]))
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} conditions for a batch of {n}")
        return y

    def _run_encoder(self, x: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> Any:
        cond = self._condition(condition.get("y"), jnp.shape(x)[0])
        return call_module(self.encoder, x, condition=cond, rngs=rngs)

    def _run_decoder(self, z: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> jax.Array:
        cond = self._condition(condition.get("y"), z.shape[0])
        return call_module(self.decoder, z, condition=cond, rngs=rngs)

    def _loss_condition(self, batch: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``y`` of a ``loss_fn`` call: ``y=`` or the batch's "y"/"label"/"labels"; required."""
        y = kwargs.pop("y", None)
        if y is None and isinstance(batch, dict):
            y = next((batch[k] for k in _LABEL_KEYS if k in batch), None)
        self._require_y(y)
        return {"y": y}

    # -- public API with y --------------------------------------------------------------------------
    def __call__(self, x: jax.Array, y: jax.Array | None = None, *, rngs: nnx.Rngs | None = None) -> dict[str, Any]:
        """Forward pass with conditioning (keys as :meth:`VAE.__call__`); ``y`` is required."""
        return self._forward(x, self._next_key(rngs), rngs, y=y)[0]

    def encode(
        self, x: jax.Array, y: jax.Array | None = None, *, rngs: nnx.Rngs | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Encode with conditioning to ``(mean, log_var)``; ``y`` is required."""
        return self._encode(x, rngs, y=y)

    def decode(self, z: jax.Array, y: jax.Array | None = None, *, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Decode with conditioning, in data space; ``y`` is required."""
        check_batch(z, type(self).__name__, "z")
        return self.likelihood.to_data(self._run_decoder(z, rngs, y=y))

    def sample(
        self,
        n_samples: int = 1,
        *,
        temperature: float = 1.0,
        y: jax.Array | None = None,
        rngs: nnx.Rngs | None = None,
    ) -> jax.Array:
        """Sample with conditioning: ``y`` has ``n_samples`` entries or is one condition.

        Without ``y`` each sample's class is drawn uniformly from ``[0, condition_dim)`` with a key from
        the model's rng stream (or ``rngs``); pass ``y`` to know or choose the classes.

        Raises:
            ValueError: If ``n_samples`` is not an integer >= 1, or for a bad ``y``.

        Example:
            >>> # cvae.sample(4, y=5)  # four samples of class 5; cvae.sample(4) mixes classes
        """
        n_samples = check_n_samples(n_samples, type(self).__name__)
        z = self.latent.prior_sample(self._next_key(rngs), n_samples, temperature)
        if y is None:
            y = jax.random.randint(self._next_key(rngs), (n_samples,), 0, self.condition_dim)
        return self.likelihood.to_data(self._run_decoder(z, rngs, y=y))

    def reconstruct(
        self,
        x: jax.Array,
        *,
        y: jax.Array | None = None,
        deterministic: bool = False,
        rngs: nnx.Rngs | None = None,
    ) -> jax.Array:
        """Reconstruct inputs under condition ``y`` (required); ``deterministic=True`` decodes the posterior mean."""
        return self._reconstruct(x, deterministic, rngs, y=y)

    def interpolate(
        self,
        x1: jax.Array,
        x2: jax.Array,
        steps: int = 10,
        *,
        y: jax.Array | None = None,
        rngs: nnx.Rngs | None = None,
    ) -> jax.Array:
        """Interpolate between posterior means under one condition ``y`` (required), endpoints included."""
        return decode_line(self, x1, x2, steps, rngs, y=self._single_condition(y))

    def latent_traversal(
        self,
        x: jax.Array,
        dim: int,
        range_vals: tuple[float, float] = (-3.0, 3.0),
        steps: int = 10,
        *,
        y: jax.Array | None = None,
        rngs: nnx.Rngs | None = None,
    ) -> jax.Array:
        """Traverse latent ``dim`` of ``x``'s posterior mean under one condition ``y`` (required)."""
        return decode_sweep(self, x, dim, range_vals, steps, rngs, y=self._single_condition(y))

    def _single_condition(self, y: Any) -> Any:
        """One condition for a whole interpolation/traversal: a label or a one-hot row ``(1, C)``."""
        self._require_y(y)
        y = jnp.asarray(y)
        is_int = jnp.issubdtype(y.dtype, jnp.integer)
        if y.ndim == 0:
            return y
        if y.ndim == 1 and is_int and y.shape[0] == 1:
            return y[0]
        if y.ndim == 1 and y.shape[0] == self.condition_dim:
            return y[None]
        if y.ndim == 2 and y.shape == (1, self.condition_dim):
            return y
        raise ValueError(
            f"{type(self).__name__}: expected one condition (a label or a one-hot row), got shape {y.shape}"
        )
