"""Data parallelism with ``jax.sharding``: a 1-D mesh over the devices, batches sharded, state replicated.

Every step's batch is split along its first axis over the mesh axis ``"data"``; parameters, optimizer state
and the dataset are replicated, so XLA inserts the gradient all-reduce. With one device this is a no-op.

Several processes (hosts, or one per accelerator), on JAX's distributed runtime:

1. Every process joins first, before anything touches a device: ``artifex train --coordinator HOST:PORT
   --num-processes N --process-id I`` (or the ``JAX_*`` variables, or ``--distributed auto`` on SLURM, Open MPI
   and Cloud TPU) calls :func:`~artifex_core.training.initialize_distributed`; in a script,
   :func:`init_distributed` is the plain :func:`jax.distributed.initialize`.
2. Every process runs the same command (same config and seed) and builds the model identically from the seed;
   :func:`make_mesh` spans ``jax.devices()``, all devices of all processes, and :func:`put_on_mesh` assembles
   each process's identical copy into global arrays (:func:`jax.make_array_from_callback`).
3. Orbax writes checkpoints collectively; only process 0 writes ``config.json``, ``metrics.jsonl`` and pictures
   (drawn from its own copy of the replicated state, :func:`to_local`).

Example:
    >>> mesh = make_mesh()
    >>> mesh.axis_names
    ('data',)
    >>> batch_sharding(mesh).spec
    P('data',)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, Sharding

__all__ = [
    "DATA_AXIS",
    "batch_sharding",
    "init_distributed",
    "is_main_process",
    "make_mesh",
    "put_on_mesh",
    "replicate",
    "replicated_sharding",
    "to_local",
]

DATA_AXIS = "data"


def init_distributed(**kwargs: Any) -> None:
    """Join a multi-host run: :func:`jax.distributed.initialize` with ``kwargs`` (call first, on every host).

    :func:`~artifex_core.training.initialize_distributed` does the same with a timeout that ends the process
    with one line instead of JAX's abort.

    Example (two hosts, run on each with its own ``process_id``)::

        init_distributed(coordinator_address="10.0.0.1:1234", num_processes=2, process_id=0)
    """
    jax.distributed.initialize(**kwargs)


def is_main_process() -> bool:
    """Whether this is process 0 (the one that writes files in a multi-host run)."""
    return jax.process_index() == 0


def make_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with axis ``"data"`` over ``devices`` (default: all devices of all processes)."""
    devs = list(devices) if devices is not None else jax.devices()
    return Mesh(np.array(devs), (DATA_AXIS,))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The first axis split over the ``"data"`` mesh axis."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def _to_global(x: Any, sharding: Sharding) -> Any:
    """One leaf on a mesh that spans other processes' devices too (every process holds the same value)."""
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        data = _to_global(jax.random.key_data(x), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    if isinstance(x, jax.Array) and not x.is_fully_addressable:  # already global: a copy, computed everywhere
        return jax.jit(jnp.copy, out_shardings=sharding)(x)
    if not isinstance(x, (jax.Array, np.ndarray, np.generic, int, float, bool, complex)):
        return x
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def put_on_mesh(tree: Any, sharding: Sharding | None, *, may_alias: bool | None = None) -> Any:
    """``jax.device_put(tree, sharding)`` that also works when the mesh spans several processes.

    A mesh of this process's devices only is a plain :func:`jax.device_put`. Across processes,
    :func:`jax.device_put` refuses arrays committed to a local device (the model built here, a key), so each
    leaf is assembled with :func:`jax.make_array_from_callback` from this process's copy: every process must
    hold the same value (the run is built from the same seed everywhere).

    Example:
        >>> import jax.numpy as jnp
        >>> put_on_mesh({"w": jnp.ones(2)}, replicated_sharding(make_mesh()))["w"].tolist()
        [1.0, 1.0]
    """
    if sharding is None or sharding.is_fully_addressable:
        return jax.device_put(tree, sharding, may_alias=may_alias)
    return jax.tree.map(lambda x: _to_global(x, sharding), tree)


def to_local(tree: Any) -> Any:
    """Every array of ``tree`` that spans other processes' devices as this process's copy (fully replicated
    arrays only), so that one process alone can compute with it (pictures, samples); others pass as they are.

    Raises:
        ValueError: An array that is split over processes (no process holds all of it).

    Example:
        >>> import jax.numpy as jnp
        >>> to_local({"w": jnp.ones(2)})["w"].tolist()
        [1.0, 1.0]
    """

    def local(x: Any) -> Any:
        if not isinstance(x, jax.Array) or x.is_fully_addressable:
            return x
        if not x.is_fully_replicated:
            raise ValueError(f"an array of shape {x.shape} is split over processes; only replicated ones are local")
        return x.addressable_shards[0].data

    return jax.tree.map(local, tree)


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Place every array of ``tree`` on all devices of ``mesh`` (of all processes: see :func:`put_on_mesh`)."""
    return put_on_mesh(tree, replicated_sharding(mesh))
