"""Paths through the latent space, decoded by ``interpolate`` and ``latent_traversal``.

:func:`line_between` and :func:`sweep_dim` build the latents; :func:`decode_line` and :func:`decode_sweep`
run them through a model (posterior means of single examples in, frames in data space out) for the base
class and its conditional variant (which passes its condition through ``**condition``).

Example:
    >>> import jax.numpy as jnp
    >>> line_between(jnp.zeros((1, 2)), jnp.ones((1, 2)), 3)[:, 0].tolist()
    [0.0, 0.5, 1.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex_plugins.vae._inputs import as_single_batch, check_latent_index, check_steps, example_shapes

if TYPE_CHECKING:
    from artifex_plugins.vae.base import VAE

__all__ = ["decode_line", "decode_sweep", "line_between", "single_mean", "sweep_dim"]


def line_between(start: jax.Array, end: jax.Array, steps: int) -> jax.Array:
    """``steps`` evenly spaced points from ``start`` to ``end`` (both included), stacked on the batch axis.

    Args:
        start: One latent with its batch axis, ``(1, ...)``.
        end: Another of the same shape.
        steps: The number of points (>= 1; a single point is ``start``).

    Returns:
        ``(steps, ...)``.

    Example:
        >>> import jax.numpy as jnp
        >>> line_between(jnp.zeros((1, 2)), jnp.full((1, 2), 4.0), 5).shape
        (5, 2)
    """
    alphas = jnp.linspace(0.0, 1.0, steps).reshape(steps, *([1] * (start.ndim - 1)))
    return (1.0 - alphas) * start + alphas * end


def sweep_dim(latent: jax.Array, dim: int, range_vals: tuple[float, float], steps: int) -> jax.Array:
    """``steps`` copies of the first latent of ``latent``, its entry ``dim`` swept over ``range_vals``.

    Args:
        latent: Latents ``(B, ..., latent_dim)``; only the first is used.
        dim: The latent dimension to sweep (a checked index).
        range_vals: The first and last value (both included).
        steps: The number of copies (>= 1).

    Returns:
        ``(steps, ..., latent_dim)``, in ``latent``'s dtype; with spatial latents the whole map of ``dim`` is set.

    Example:
        >>> import jax.numpy as jnp
        >>> sweep_dim(jnp.ones((1, 2)), 1, (-1.0, 1.0), 3).tolist()
        [[1.0, -1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    values = jnp.linspace(range_vals[0], range_vals[1], steps, dtype=latent.dtype)
    z = jnp.repeat(latent[:1], steps, axis=0)
    return z.at[..., dim].set(values.reshape(steps, *([1] * (latent.ndim - 2))))


def single_mean(model: VAE, x: jax.Array, rngs: nnx.Rngs | None, **condition: Any) -> jax.Array:
    """The posterior mean ``(1, ...)`` of one example ``x``, with or without its batch axis of 1.

    Raises:
        ValueError: If ``x`` is a batch of several examples (see :func:`~artifex_plugins.vae._inputs.as_single_batch`).

    Example:
        >>> # single_mean(vae, x_test[0], None).shape == (1, vae.latent_dim)
    """
    return model._encode(as_single_batch(x, example_shapes(model.encoder, model.decoder)), rngs, **condition)[0]


def decode_line(
    model: VAE, x1: jax.Array, x2: jax.Array, steps: int, rngs: nnx.Rngs | None, **condition: Any
) -> jax.Array:
    """Decode ``steps`` points on the line between the posterior means of ``x1`` and ``x2`` (endpoints included).

    Raises:
        ValueError: If ``steps < 1`` or ``x1``/``x2`` is not a single example.

    Example:
        >>> # decode_line(vae, x_test[0], x_test[1], 8, None).shape == (8, *x_test.shape[1:])
    """
    check_steps(steps)
    start = single_mean(model, x1, rngs, **condition)
    end = single_mean(model, x2, rngs, **condition)
    return model._decode(line_between(start, end, steps), rngs, **condition)


def decode_sweep(
    model: VAE,
    x: jax.Array,
    dim: Any,
    range_vals: tuple[float, float],
    steps: int,
    rngs: nnx.Rngs | None,
    **condition: Any,
) -> jax.Array:
    """Decode the posterior mean of ``x`` with latent ``dim`` swept over ``range_vals`` (endpoints included).

    Raises:
        ValueError: If ``dim`` is outside ``[0, model.latent_dim)``, ``steps < 1`` or ``x`` is not a single
            example.

    Example:
        >>> # decode_sweep(vae, x_test[0], 0, (-3.0, 3.0), 8, None).shape == (8, *x_test.shape[1:])
    """
    index = check_latent_index(dim, model.latent_dim)
    check_steps(steps)
    latents = sweep_dim(single_mean(model, x, rngs, **condition), index, range_vals, steps)
    return model._decode(latents, rngs, **condition)
