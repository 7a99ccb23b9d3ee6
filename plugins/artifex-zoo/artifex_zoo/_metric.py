"""``zoo_iwae``: the test NLL of a model from its own importance weights (the ``log_importance_weights`` hook).

The built-in ``iwae`` metric assumes one Gaussian latent with the prior ``N(0, I)``. A model whose prior or
latents differ (VampPrior's mixture prior, the two-layer hierarchical VAE) declares another ``latent_type``
and provides the hook ``log_importance_weights(x, num_samples, *, key) -> (num_samples, B)``, the per-sample
``log p(x, z) - log q(z | x)`` under its own model. This metric applies to such models (a model with the hook
and a ``"gaussian"`` latent is served by the built-in ``iwae``) and reports, over the test split,

    iwae_nll = -mean_x [logsumexp_i log w_i - log k]      (an upper bound on the NLL, tightening with k)
    neg_elbo = -mean_x mean_i log w_i                     (the ELBO from the same k samples)

computed in chunks of ``chunk`` samples with a running log-sum-exp, jitted once.

Example:
    >>> ZooIWAE(k=0).applies(None)
    False
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from artifex_core.evaluation import EvalData, Metric

__all__ = ["ZooIWAE", "model_log_weight_bounds"]


def model_log_weight_bounds(
    model: Any, x: np.ndarray, *, seed: int = 0, k: int = 1000, batch_size: int = 64, chunk: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Per-example ``(iwae_bound, elbo)`` ``(N,)`` each, from ``model.log_importance_weights``.

    Raises:
        ValueError: For a non-positive ``k``, ``batch_size`` or ``chunk``, or log-weights of the wrong shape.
    """
    import jax
    import jax.numpy as jnp
    from flax import nnx

    for name, value in (("k", k), ("batch_size", batch_size), ("chunk", chunk)):
        if int(value) <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    chunk = min(int(chunk), int(k))
    n_chunks = -(-int(k) // chunk)
    graphdef, state = nnx.split(model)

    def one_batch(s: Any, xb: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        m = nnx.merge(graphdef, s, copy=True)
        b = xb.shape[0]

        def step(carry: tuple[jax.Array, jax.Array], i: jax.Array) -> tuple[tuple[jax.Array, jax.Array], None]:
            acc, total = carry
            log_w = m.log_importance_weights(xb, chunk, key=jax.random.fold_in(key, i))
            if log_w.shape != (chunk, b):
                raise ValueError(f"log_importance_weights gave shape {log_w.shape}, expected {(chunk, b)}")
            valid = (i * chunk + jnp.arange(chunk)) < k
            total = total + jnp.sum(jnp.where(valid[:, None], log_w, 0.0), axis=0)
            log_w = jnp.where(valid[:, None], log_w, -jnp.inf)
            return (jax.nn.logsumexp(jnp.concatenate([acc[None], log_w], axis=0), axis=0), total), None

        init = (jnp.full((b,), -jnp.inf), jnp.zeros((b,)))
        (acc, total), _ = jax.lax.scan(step, init, jnp.arange(n_chunks))
        return acc - math.log(k), total / k

    compiled = jax.jit(one_batch)
    key = jax.random.key(seed)
    n = len(x)
    bounds, elbos = np.empty(n, np.float64), np.empty(n, np.float64)
    size = min(batch_size, n)
    for index, start in enumerate(range(0, n, size)):
        stop = min(start + size, n)
        xb = np.asarray(x[start:stop])
        if len(xb) < size:  # pad the last batch so that it compiles once
            xb = np.concatenate([xb, np.repeat(xb[-1:], size - len(xb), axis=0)])
        bound, elbo = compiled(state, jnp.asarray(xb), jax.random.fold_in(key, index))
        bounds[start:stop] = np.asarray(bound, np.float64)[: stop - start]
        elbos[start:stop] = np.asarray(elbo, np.float64)[: stop - start]
    return bounds, elbos


class ZooIWAE(Metric):
    """The importance-weighted NLL bound of a model that provides ``log_importance_weights``.

    Applies when ``k > 0``, the model's class has the hook and its ``latent_type`` is not ``"gaussian"``.
    Reports ``iwae_nll`` (or ``iwae_bound`` when the likelihood is not normalised), ``neg_elbo`` and ``k``.

    Args:
        k: Importance samples per example (``artifex evaluate --k``).
        batch_size: Examples per jitted call.
        chunk: Samples drawn at once.
    """

    def __init__(self, *, k: int = 1000, batch_size: int = 64, chunk: int = 100) -> None:
        if int(k) < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        self.k, self.batch_size, self.chunk = int(k), int(batch_size), int(chunk)

    def applies(self, run: Any) -> bool:
        """``k > 0``, the hook exists, and the latent is not the built-in ``iwae``'s Gaussian one."""
        if self.k <= 0 or run is None:
            return False
        cls = type(run.model)
        return callable(getattr(cls, "log_importance_weights", None)) and getattr(cls, "latent_type", None) != "gaussian"

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """``{"iwae_nll" or "iwae_bound": v, "neg_elbo": v, "k": k}`` on the test split."""
        bound, elbo = model_log_weight_bounds(
            run.model, data.x_test, seed=seed, k=self.k, batch_size=self.batch_size, chunk=self.chunk
        )
        name = "iwae_nll" if bool(getattr(run.model, "normalized_likelihood", False)) else "iwae_bound"
        return {name: float(-bound.mean()), "neg_elbo": float(-elbo.mean()), "k": self.k}
