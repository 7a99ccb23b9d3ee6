"""Data parallelism with ``jax.sharding``: a 1-D mesh over the devices, batches sharded, state replicated.

Every step's batch is split along its first axis over the mesh axis ``"data"``; parameters, optimizer state
and the dataset are replicated, so XLA inserts the gradient all-reduce. With one device this is a no-op.

Several hosts (multi-process):

1. On every host, before anything else touches JAX, call :func:`init_distributed` (a thin wrapper of
   :func:`jax.distributed.initialize`; on Cloud TPU and SLURM/Open MPI clusters it needs no arguments,
   elsewhere pass ``coordinator_address="host0:1234"``, ``num_processes`` and ``process_id``, or set
   ``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``).
2. Run the same ``artifex train`` command (same config and seed) on every host. Each host loads the
   dataset and builds the model identically from the seed; :func:`make_mesh` spans ``jax.devices()``, i.e.
   all devices of all hosts, and arrays are assembled with :func:`jax.make_array_from_callback`.
3. Orbax writes checkpoints collectively; only process 0 writes ``config.json``, ``metrics.jsonl`` and pictures.

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
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = [
    "DATA_AXIS",
    "batch_sharding",
    "init_distributed",
    "is_main_process",
    "make_mesh",
    "replicate",
    "replicated_sharding",
]

DATA_AXIS = "data"


def init_distributed(**kwargs: Any) -> None:
    """Join a multi-host run: :func:`jax.distributed.initialize` with ``kwargs`` (call first, on every host).

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


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Place every array of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, replicated_sharding(mesh))
