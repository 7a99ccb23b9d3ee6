"""The on-device data pipeline: the whole split on the device, shuffled and sliced inside the jitted step.

Nothing loops over host arrays in Python. Each epoch draws one permutation on the device from the run's
seed (``fold_in(key, epoch)``), and each step gathers its batch with ``dynamic_slice`` of that permutation.
Dynamic binarization samples fresh Bernoulli bits for every step (``fold_in(key, step)``), so every epoch
sees new bits; the test split is binarized once, seeded, on the host. Everything depends only on
``(seed, epoch, step)``, which is what makes a resumed run identical to an uninterrupted one.

Example:
    >>> import numpy as np, jax
    >>> split = put_split(np.arange(6, dtype=np.uint8).reshape(6, 1) * 50, None)
    >>> perm = epoch_permutation(jax.random.key(0), 0, split.size)
    >>> x, _ = gather_batch(split, perm, 0, 3)
    >>> x.shape, x.dtype
    ((3, 1), dtype('float32'))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from artifex_core.data._dataset import Dataset, DatasetError, binarize_fixed

__all__ = [
    "BinarizeMode",
    "DeviceSplit",
    "dynamic_binarize",
    "epoch_permutation",
    "gather_batch",
    "host_splits",
    "put_split",
    "to_float",
]

BinarizeMode = Literal["none", "dynamic", "fixed"]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class DeviceSplit:
    """One split on the device: images (``uint8`` or ``float32``) and optional ``int32`` labels.

    A pytree (so it can be a jit argument); ``size`` is static.
    """

    x: jax.Array
    y: jax.Array | None
    size: int = field(default=0, metadata={"static": True})


def _put(array: np.ndarray, sharding: Any) -> jax.Array:
    if sharding is None:
        return jnp.asarray(array)
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def put_split(images: np.ndarray, labels: np.ndarray | None, sharding: Any = None) -> DeviceSplit:
    """Move one split to the device(s), replicated over ``sharding`` when given.

    Uses :func:`jax.make_array_from_callback`, which also works when several processes share the mesh.
    """
    x = _put(np.ascontiguousarray(images), sharding)
    y = None if labels is None else _put(np.ascontiguousarray(labels, dtype=np.int32), sharding)
    return DeviceSplit(x, y, int(images.shape[0]))


def to_float(x: jax.Array) -> jax.Array:
    """``uint8`` 0..255 -> ``float32`` [0, 1]; floats pass through (call inside jit)."""
    if x.dtype == jnp.uint8:
        return x.astype(jnp.float32) * jnp.float32(1.0 / 255.0)
    return x.astype(jnp.float32)


def epoch_permutation(key: jax.Array, epoch: int | jax.Array, size: int) -> jax.Array:
    """The order of epoch ``epoch``: a permutation of ``range(size)`` drawn from ``fold_in(key, epoch)``."""
    return _permutation(key, jnp.asarray(epoch, jnp.uint32), size)


@partial(jax.jit, static_argnames="size")
def _permutation(key: jax.Array, epoch: jax.Array, size: int) -> jax.Array:
    return jax.random.permutation(jax.random.fold_in(key, epoch), size).astype(jnp.int32)


def gather_batch(
    split: DeviceSplit, perm: jax.Array, index: int | jax.Array, batch_size: int
) -> tuple[jax.Array, jax.Array | None]:
    """Batch number ``index`` of the epoch whose order is ``perm``, as ``float32`` in [0, 1] (inside jit)."""
    idx = jax.lax.dynamic_slice_in_dim(perm, jnp.asarray(index, jnp.int32) * batch_size, batch_size)
    x = to_float(jnp.take(split.x, idx, axis=0))
    y = None if split.y is None else jnp.take(split.y, idx, axis=0)
    return x, y


def dynamic_binarize(key: jax.Array, step: int | jax.Array, x: jax.Array, replicated: Any = None) -> jax.Array:
    """Fresh Bernoulli bits ``x' ~ Bernoulli(x)`` for training step ``step`` (inside jit).

    The bits come from XLA's ``RngBitGenerator`` (the ``"rbg"`` key implementation) keyed by
    ``fold_in(key, step)``: on CPU it is several times cheaper than the default threefry, whose rolled loop
    cost about 8% of an MLP VAE step. They depend only on ``(key, step)``, so a resumed run sees the same
    bits. ``replicated`` (a replicated sharding) makes every device draw the whole batch's bits, so a run
    sharded over several devices binarizes exactly as a single-device run.

    Args:
        key: The run's binarization key (any key implementation).
        step: The global training step.
        x: Pixel intensities in [0, 1].
        replicated: Optional replicated sharding for multi-device runs.

    Returns:
        Bits of ``x``'s shape and dtype.

    Example:
        >>> x = jnp.full((2, 3), 0.5)
        >>> bits = dynamic_binarize(jax.random.key(0), 0, x)
        >>> bits.dtype == x.dtype, bool(jnp.all((bits == 0) | (bits == 1)))
        (True, True)
    """
    data = jax.random.key_data(jax.random.fold_in(key, jnp.asarray(step, jnp.uint32))).reshape(-1)
    rbg_key = jax.random.wrap_key_data(jnp.concatenate([data, data])[:4], impl="rbg")
    uniform = jax.random.uniform(rbg_key, x.shape, x.dtype)
    if replicated is not None:
        uniform = jax.lax.with_sharding_constraint(uniform, replicated)
    return (uniform < x).astype(x.dtype)


def _binarized(x: np.ndarray, seed: int) -> np.ndarray:
    if isinstance(x, np.memmap):
        from artifex_core.data._packed import binarize_fixed_mapped

        return binarize_fixed_mapped(x, seed)
    return binarize_fixed(x, seed)


def host_splits(dataset: Dataset, binarize: BinarizeMode, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The host arrays to put on the device for ``binarize``: (train images, test images).

    ``none``: as loaded. ``dynamic``: train as loaded (binarized per step on the device), test binarized once
    with ``seed``. ``fixed``: both binarized once (train with ``seed``, test with ``seed + 1``). A memory-mapped
    split (a pack) is binarized chunk by chunk into a temporary memory map: the same bits, never all in memory.

    Raises:
        DatasetError: For an unknown mode.
    """
    if binarize == "none":
        return dataset.train_images, dataset.test_images
    if binarize == "dynamic":
        return dataset.train_images, _binarized(dataset.test_images, seed)
    if binarize == "fixed":
        return _binarized(dataset.train_images, seed), _binarized(dataset.test_images, seed + 1)
    raise DatasetError(f"unknown binarize mode {binarize!r} (allowed: none, dynamic, fixed)")
