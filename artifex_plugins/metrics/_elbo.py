"""The evidence lower bound (ELBO) of a Gaussian-latent VAE on the test split, and bits per dimension.

For each example (Kingma & Welling 2014, with the prior ``p(z) = N(0, I)``)

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)),    q(z | x) = N(mean, exp(log_var)),

the expectation estimated with ``samples`` reparameterised draws of ``z`` and the KL in closed form. It is
the model's own likelihood (``log_likelihood``, the reconstruction term of its ``loss_fn``) with the KL at
weight one, whatever KL weight (β, capacity, annealing) the model was trained with: for a plain β = 1 VAE
``neg_elbo`` is the test ``loss`` up to Monte Carlo noise; for a β-VAE it is not the loss, it is the bound.

``bits_per_dim = neg_elbo / (D · ln 2)``, ``D`` the number of data dimensions of one example, is reported for
image data (examples of shape ``(H, W, C)``) when the model declares a normalised likelihood
(``normalized_likelihood``, e.g. ``bce``): only then is ``neg_elbo`` an upper bound on the NLL in nats. For an
unnormalised likelihood (``mse``, ``l1``) the ELBO is in the loss's own units and no bits are reported.

Example:
    >>> round(bits_per_dim(784 * math.log(2.0), 784), 6)  # one nat-per-ln2 for every dimension: one bit
    1.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from artifex_core.evaluation import EvalData, Metric
from artifex_plugins.metrics._contract import GAUSSIAN, batched, latent_type

__all__ = ["ELBO", "bits_per_dim", "model_elbo"]

_LOG_VAR_MIN, _LOG_VAR_MAX = -20.0, 20.0


def bits_per_dim(neg_elbo: float, dims: int) -> float:
    """``neg_elbo / (dims · ln 2)``: nats per example as bits per data dimension.

    Raises:
        ValueError: For ``dims < 1``.

    Example:
        >>> bits_per_dim(2 * math.log(2.0), 2)
        1.0
    """
    if dims < 1:
        raise ValueError(f"dims must be >= 1, got {dims}")
    return float(neg_elbo) / (dims * math.log(2.0))


def model_elbo(
    model: Any, x: np.ndarray, *, seed: int = 0, y: np.ndarray | None = None, samples: int = 1, batch_size: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """Per-example ``E_q[log p(x | z)]`` and ``KL(q || p)`` of a model that declares a Gaussian latent.

    Args:
        model: ``encode(x)`` (``encode(x, y)`` with labels) gives ``(mean, log_var)``; ``decode_outputs(z)``
            and ``log_likelihood(x, outputs)`` score the draws.
        x: Examples as the model sees them.
        seed: Seed of the draws of ``z``.
        y: Labels of a conditional model.
        samples: Draws of ``z`` per example (their log-likelihoods are averaged).
        batch_size: Examples per jitted call.

    Returns:
        ``(log_likelihood, kl)``, each ``float64`` of shape ``(N,)``; the ELBO is their difference.

    Raises:
        ValueError: For ``samples < 1`` or a ``log_likelihood`` that gives no value per example.
    """
    import jax
    import jax.numpy as jnp
    from flax import nnx

    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    conditional = y is not None
    graphdef, state = nnx.split(model)

    def one_batch(s: Any, xb: jax.Array, yb: Any, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        m = nnx.merge(graphdef, s, copy=True)
        mean, log_var = tuple(m.encode(xb, yb) if conditional else m.encode(xb))[:2]
        log_var = jnp.clip(log_var, _LOG_VAR_MIN, _LOG_VAR_MAX)
        kl = 0.5 * (jnp.square(mean) + jnp.exp(log_var) - 1.0 - log_var)
        kl = kl.reshape(kl.shape[0], -1).sum(axis=-1)
        std = jnp.exp(0.5 * log_var)
        total = jnp.zeros(xb.shape[0], jnp.float32)
        for i in range(samples):
            z = mean + std * jax.random.normal(jax.random.fold_in(key, i), mean.shape, mean.dtype)
            outputs = m.decode_outputs(z, y=yb) if conditional else m.decode_outputs(z)
            ll = jnp.asarray(m.log_likelihood(xb, outputs))
            if ll.shape != (xb.shape[0],):
                raise ValueError(
                    f"{type(m).__name__}.log_likelihood must give one value per example, shape ({xb.shape[0]},); "
                    f"got shape {ll.shape}"
                )
            total = total + ll
        return total / samples, kl

    compiled = jax.jit(one_batch)
    key = jax.random.key(seed)
    counter = iter(range(1 << 30))
    parts = batched(
        lambda xb, yb: compiled(state, xb, yb, jax.random.fold_in(key, next(counter))), [x, y], batch_size
    )
    ll = np.concatenate([np.asarray(p[0], np.float64) for p in parts])
    kl = np.concatenate([np.asarray(p[1], np.float64) for p in parts])
    return ll, kl


class ELBO(Metric):
    """The test ELBO in nats per example, its two terms, and bits per dimension for image data.

    Applies to models that declare a Gaussian latent. Reports ``elbo`` (``E_q[log p(x|z)] - KL``, a negative
    number of nats for a normalised likelihood), ``neg_elbo`` (``-elbo``), ``log_likelihood`` and ``kl``
    (its terms, averaged over the test examples), ``samples``, ``normalized_likelihood``, and ``bits_per_dim``
    when the likelihood is normalised and the examples are images (``(H, W, C)``).

    Args:
        samples: Draws of ``z`` per example for the expected log-likelihood.
        batch_size: Examples per jitted call.

    Example:
        >>> ELBO(samples=4).samples
        4
    """

    def __init__(self, *, samples: int = 1, batch_size: int = 500) -> None:
        if int(samples) < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.samples, self.batch_size = int(samples), int(batch_size)

    def applies(self, run: Any) -> bool:
        """The model declares a Gaussian latent."""
        return latent_type(run.model) == GAUSSIAN

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """The figures above, on ``data.x_test``."""
        y = data.y_test if run.model_config.conditional else None
        ll, kl = model_elbo(
            run.model, data.x_test, seed=seed, y=y, samples=self.samples, batch_size=self.batch_size
        )
        elbo = float(np.mean(ll - kl))
        normalized = bool(getattr(run.model, "normalized_likelihood", False))
        figures: dict[str, Any] = {
            "elbo": elbo,
            "neg_elbo": -elbo,
            "log_likelihood": float(np.mean(ll)),
            "kl": float(np.mean(kl)),
            "samples": self.samples,
            "normalized_likelihood": normalized,
        }
        if normalized and data.x_test.ndim == 4:
            figures["bits_per_dim"] = bits_per_dim(-elbo, int(np.prod(data.x_test.shape[1:])))
        return figures
