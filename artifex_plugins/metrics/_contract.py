"""What the built-in metrics read from a model: its declared latent and helpers to run it over a data set.

A model declares its latent with the class attribute ``latent_type`` (:class:`artifex_plugins.vae.VAE`):

- ``"gaussian"``: ``encode(x)`` (``encode(x, y)`` when conditional) gives ``(mean, log_var)`` of
  ``q(z | x) = N(mean, exp(log_var))``, the prior is ``N(0, I)``, ``decode_outputs(z, y=...)`` decodes
  latents and ``log_likelihood(x, outputs)`` scores them: the IWAE bound and active units apply;
- ``"codebook"``: ``__call__`` outputs ``encoding_indices`` into a ``num_embeddings`` codebook: the codebook
  usage metric applies.

A model without the declaration gets neither, whatever attributes it has.

Example:
    >>> class Toy:
    ...     latent_type = "gaussian"
    >>> latent_type(Toy()), latent_type(object())
    ('gaussian', None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["GAUSSIAN", "CODEBOOK", "batched", "jitted", "latent_type"]

GAUSSIAN = "gaussian"
CODEBOOK = "codebook"


def latent_type(model: Any) -> str | None:
    """The latent ``model``'s class declares (``"gaussian"``, ``"codebook"``, ...), or ``None``."""
    value = getattr(type(model), "latent_type", None)
    return value if isinstance(value, str) else None


def jitted(model: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(model, *args)`` compiled over the model's state (state changes are discarded)."""
    import jax
    from flax import nnx

    graphdef, state = nnx.split(model)
    compiled = jax.jit(lambda s, *args: fn(nnx.merge(graphdef, s, copy=True), *args))
    return lambda *args: compiled(state, *args)


def batched(fn: Callable[..., Any], arrays: list[np.ndarray | None], batch_size: int) -> list[Any]:
    """``fn`` over consecutive batches of ``arrays`` (``None`` entries are passed as ``None``), on the host."""
    import jax
    import jax.numpy as jnp

    out = []
    n = len(arrays[0])  # type: ignore[arg-type]  # the first array (the examples) is never None
    for start in range(0, n, batch_size):
        args = [None if a is None else jnp.asarray(a[start : start + batch_size]) for a in arrays]
        out.append(jax.device_get(fn(*args)))
    return out
