"""Checks of what enters a model's methods: batches, sample counts, encoder outputs, single examples.

Inputs are checked where they enter: an empty batch (``x.shape[0] == 0``), an ``n_samples`` that is not an
integer >= 1, an encoder output that is not a ``(mean, log_var)`` pair, a ``dim`` outside the latent or a
batch where one example is expected raise ``ValueError``; integer data raises ``TypeError``. Shapes and
dtypes are static, so the checks hold under ``jit`` too.

Example:
    >>> import jax.numpy as jnp
    >>> batch_data({"image": jnp.ones((2, 3))}, None, "VAE").shape
    (2, 3)
"""

from __future__ import annotations

import math
import operator
from typing import Any

import jax
import jax.numpy as jnp

__all__ = [
    "BATCH_KEYS",
    "as_single_batch",
    "batch_data",
    "check_batch",
    "check_encoder_output",
    "check_latent_index",
    "check_n_samples",
    "check_steps",
    "example_shapes",
]

BATCH_KEYS = ("x", "image", "data")
"""The keys a batch dict may hold its data under, in the order they are looked up."""


def check_batch(x: Any, owner: str, name: str = "x") -> None:
    """Raise ``ValueError`` when ``x`` is an empty batch (its leading axis has size 0), ``TypeError`` when it
    holds integers.

    Models take floats (images in [0, 1]). Integer inputs are refused rather than cast: ``uint8`` images
    (0..255) taken as floats give latents hundreds of times too large without a word, and dividing by 255
    would guess at what the integers mean. Works on concrete arrays and tracers alike (shapes and dtypes are
    static). Arrays of rank 0 pass: the encoders report those with their own shape message.

    Example:
        >>> check_batch(jnp.zeros((0, 6)), "VAE")
        Traceback (most recent call last):
        ...
        ValueError: VAE: empty batch: x has shape (0, 6); pass at least one example
        >>> check_batch(jnp.zeros((2, 6), jnp.uint8), "VAE")
        Traceback (most recent call last):
        ...
        TypeError: VAE: x has dtype uint8; the model takes floats in [0, 1]: scale 8-bit images (0..255) first, x.astype(jnp.float32) / 255 (0/1 masks: x.astype(jnp.float32))
    """
    shape = tuple(jnp.shape(x))
    if shape and shape[0] == 0:
        raise ValueError(f"{owner}: empty batch: {name} has shape {shape}; pass at least one example")
    dtype = getattr(x, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jnp.integer):
        hint = (
            f"scale 8-bit images (0..255) first, {name}.astype(jnp.float32) / 255 "
            f"(0/1 masks: {name}.astype(jnp.float32))"
            if dtype == jnp.uint8
            else f"convert it, e.g. {name}.astype(jnp.float32)"
        )
        raise TypeError(f"{owner}: {name} has dtype {dtype}; the model takes floats in [0, 1]: {hint}")


def check_n_samples(n_samples: Any, owner: str) -> int:
    """Return ``n_samples`` as an ``int``, or raise ``ValueError`` unless it is an integer >= 1.

    Example:
        >>> check_n_samples(4, "VAE")
        4
        >>> check_n_samples(0, "VAE")
        Traceback (most recent call last):
        ...
        ValueError: VAE: n_samples must be an integer >= 1, got 0
    """
    try:
        n = None if isinstance(n_samples, bool) else operator.index(n_samples)
    except TypeError:
        n = None
    if n is None or n < 1:
        raise ValueError(f"{owner}: n_samples must be an integer >= 1, got {n_samples!r}")
    return n


def check_steps(steps: int) -> None:
    """Raise ``ValueError`` unless ``steps`` (the frames of an interpolation or traversal) is >= 1.

    Example:
        >>> check_steps(0)
        Traceback (most recent call last):
        ...
        ValueError: steps must be >= 1, got 0
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")


def check_latent_index(dim: Any, latent_dim: int) -> int:
    """Return ``dim`` as an ``int``, or raise ``ValueError`` unless it is an integer in ``[0, latent_dim)``.

    Example:
        >>> check_latent_index(1, 2)
        1
        >>> check_latent_index(2, 2)
        Traceback (most recent call last):
        ...
        ValueError: dim must be an integer in [0, 2), got 2
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, jnp.integer)) or not 0 <= int(dim) < latent_dim:
        raise ValueError(f"dim must be an integer in [0, {latent_dim}), got {dim!r}")
    return int(dim)


def check_encoder_output(out: Any, latent_dim: int) -> tuple[jax.Array, jax.Array]:
    """Return an encoder's output as ``(mean, log_var)``, checked: a pair of arrays of one shape
    ``(batch, ..., latent_dim)``.

    Raises:
        ValueError: If ``out`` is not a pair of arrays, their shapes differ or do not end in ``latent_dim``.

    Example:
        >>> check_encoder_output((jnp.zeros((2, 3)),) * 3, 3)
        Traceback (most recent call last):
        ...
        ValueError: the encoder must return a (mean, log_var) pair of arrays, got a tuple of length 3
    """
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(hasattr(a, "shape") for a in out)):
        kind = f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise ValueError(f"the encoder must return a (mean, log_var) pair of arrays, got {kind}")
    mean, log_var = out
    if mean.shape != log_var.shape:
        raise ValueError(f"encoder mean {mean.shape} and log_var {log_var.shape} must have the same shape")
    if mean.ndim < 2 or mean.shape[-1] != latent_dim:
        raise ValueError(f"encoder output shape {mean.shape} must be (batch, ..., latent_dim={latent_dim})")
    return mean, log_var


def batch_data(batch: Any, x: Any, owner: str) -> jax.Array:
    """The data of a ``loss_fn`` call: ``x`` when given, else the batch array or its "x"/"image"/"data" entry.

    Raises:
        ValueError: If the data is missing (or the batch dict has none of :data:`BATCH_KEYS`) or an empty
            batch; ``TypeError`` if it holds integers (see :func:`check_batch`).

    Example:
        >>> batch_data({"label": 1}, None, "VAE")
        Traceback (most recent call last):
        ...
        ValueError: batch dict needs one of ('x', 'image', 'data'), got keys ['label']
    """
    if x is None:
        if isinstance(batch, dict):
            x = next((batch[k] for k in BATCH_KEYS if k in batch), None)
            if x is None:
                raise ValueError(f"batch dict needs one of {BATCH_KEYS}, got keys {sorted(batch)}")
        else:
            x = batch
    if x is None:
        raise ValueError("loss_fn needs the data: pass x=... or batch=...")
    x = jnp.asarray(x)
    check_batch(x, owner)
    return x


def _shape_of(obj: Any) -> tuple[int, ...] | None:
    if isinstance(obj, int) and not isinstance(obj, bool):
        return (obj,)
    if isinstance(obj, (tuple, list)) and obj and all(isinstance(d, int) for d in obj):
        return tuple(obj)
    return None


def example_shapes(encoder: Any, decoder: Any) -> list[tuple[int, ...]]:
    """Candidate shapes of one data example: the decoder's output_dim, the encoder's input_dim.

    A conditional encoder wrapper's inner input_dim is skipped (it may include the label).

    Example:
        >>> from types import SimpleNamespace as NS
        >>> example_shapes(NS(input_dim=[6]), NS(output_dim=(6,)))
        [(6,)]
    """
    candidates = (
        getattr(decoder, "output_dim", None),
        getattr(getattr(decoder, "decoder", None), "output_dim", None),
        getattr(encoder, "input_dim", None),
    )
    shapes: list[tuple[int, ...]] = []
    for shape in map(_shape_of, candidates):
        if shape is not None and shape not in shapes:
            shapes.append(shape)
    return shapes


def as_single_batch(x: jax.Array, shapes: list[tuple[int, ...]]) -> jax.Array:
    """Give a single example (with or without its batch axis of 1) a batch axis of size 1.

    Args:
        x: One example, ``(*shape)`` or ``(1, *shape)``, possibly flattened.
        shapes: The candidate example shapes (:func:`example_shapes`); with none, a leading axis of 1 is
            taken as the batch axis.

    Raises:
        ValueError: If ``x`` is a batch of several examples.

    Example:
        >>> as_single_batch(jnp.zeros(6), [(6,)]).shape
        (1, 6)
        >>> as_single_batch(jnp.zeros((2, 6)), [(6,)])
        Traceback (most recent call last):
        ...
        ValueError: expected a single example, got a batch of shape (2, 6)
    """
    x = jnp.asarray(x)
    if tuple(x.shape) in shapes:
        return x[None]
    if not shapes:
        return x if x.ndim >= 2 and x.shape[0] == 1 else x[None]
    if x.ndim >= 2 and x[0].size in {math.prod(s) for s in shapes}:
        if x.shape[0] != 1:
            raise ValueError(f"expected a single example, got a batch of shape {x.shape}")
        return x
    return x[None]
