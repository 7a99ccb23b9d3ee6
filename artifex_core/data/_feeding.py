"""The host-streaming input path: each process gathers its rows of every batch and feeds them, prefetched.

Used when the splits do not fit on the devices (``data_placement="stream"``, or ``"auto"`` past the budget,
see :mod:`artifex_core.data._placement`). The split stays in host memory or, packed with ``artifex data pack``,
memory-mapped on disk (:mod:`artifex_core.data._packed`), and only the rows of the batches being fed are read.

- The order is the device path's: one global permutation of the training split per epoch, drawn from
  ``fold_in(key, epoch)`` (:func:`~artifex_core.data.epoch_permutation`), so both paths see the same batches and
  binarization (``fold_in(key, step)``, on the device) draws the same bits.
- Each process builds only the rows of the global batch its devices own (:func:`local_rows`) and assembles the
  global array with :func:`jax.make_array_from_process_local_data`; in one process that is the whole batch.
- One dispatch (``steps_per_dispatch`` steps of a ``lax.scan``) is fed as one ``(steps, batch, ...)`` array, and
  a background thread prepares the next ``prefetch`` dispatches while the device trains on this one.

Why a hand-written loader and not grain (0.2.18): the loader's whole job here is one vectorised NumPy gather
(``images[rows]``, from RAM or a memory map) per batch, in a permutation that must be exactly the device path's,
plus a device transfer. grain reads and batches record by record in Python: over one epoch of MNIST-sized
batches (``benchmarks/grain_gather.py``, 2 loaded CPU cores) the NumPy gather fed 0.7-1.6 M examples/s, grain's
``MapDataset.map(...).batch(128)`` 11-13 k examples/s by index and 32-48 k with 2 reader threads, while the MLP VAE
trains at 5-10 k examples/s on the same cores: grain would take a large share of the CPU the step needs. Its
own shuffles are not the (seed, epoch) permutation the device path draws (an index map reproducing it would be
needed anyway), and it would be one more dependency of the core for what one thread does here. A model whose
examples need decoding or augmentation on the host is the case for grain (its workers parallelise per-record
Python work); artifex's datasets are arrays.

Example:
    >>> import numpy as np, jax
    >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec
    >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
    >>> feeder = HostFeeder(np.arange(24, dtype=np.uint8).reshape(12, 2), None, batch_size=4,
    ...                     steps_per_dispatch=2, sharding=NamedSharding(mesh, PartitionSpec("data")))
    >>> [(xs.shape, count) for xs, _, count in feeder.epoch(np.arange(12), 3)]
    [((2, 4, 2), 2), ((2, 4, 2), 1)]
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

__all__ = ["HostFeeder", "eval_batches", "local_rows", "prefetched"]

T = TypeVar("T")
_DONE = object()


def local_rows(sharding: NamedSharding, batch_size: int) -> np.ndarray:
    """The positions in a global batch of ``batch_size`` rows that this process's devices hold, in the order
    :func:`jax.make_array_from_process_local_data` expects its local rows (the devices' slices, sorted).

    ``sharding`` shards a batch's first axis. In a single process: ``arange(batch_size)``.

    Example:
        >>> import numpy as np, jax
        >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec
        >>> mesh = Mesh(np.array(jax.devices()[:1]), ("data",))
        >>> local_rows(NamedSharding(mesh, PartitionSpec("data")), 4).tolist()
        [0, 1, 2, 3]
    """
    spans = set()
    for index in sharding.addressable_devices_indices_map((batch_size,)).values():
        first = index[0] if index is not None else slice(None)
        start, stop, _ = first.indices(batch_size)
        spans.add((start, stop))
    return np.concatenate([np.arange(a, b) for a, b in sorted(spans)]).astype(np.int64)


def prefetched(produce: Iterator[T], depth: int) -> Iterator[T]:
    """The items of ``produce``, made by a background thread up to ``depth`` items ahead of the consumer.

    An exception in the thread is raised in the consumer; leaving the loop early stops the thread.

    Example:
        >>> list(prefetched(iter(range(5)), 2))
        [0, 1, 2, 3, 4]
    """
    if depth <= 0:
        yield from produce
        return
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(exc)

    thread = threading.Thread(target=work, name="artifex-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)


class HostFeeder:
    """Feed batches of a host split (an array or a memory map) to the mesh, this process's rows only.

    Args:
        images: The split's images, ``(N, ...)`` ``uint8`` or ``float32`` (a ``np.memmap`` is read row by row).
        labels: Its ``int32`` labels ``(N,)``, or None.
        batch_size: Rows of a global batch.
        steps_per_dispatch: Batches stacked into one fed array (the step's ``lax.scan`` length).
        sharding: The sharding of one batch (first axis over the mesh); the stacked arrays get
            ``PartitionSpec(None, *sharding.spec)``.
        prefetch: Dispatches prepared ahead by a background thread (0: none).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None,
        *,
        batch_size: int,
        steps_per_dispatch: int,
        sharding: NamedSharding,
        prefetch: int = 2,
    ) -> None:
        self.images, self.labels = images, labels
        self.batch_size, self.steps_per_dispatch, self.prefetch = batch_size, steps_per_dispatch, prefetch
        self.size = int(images.shape[0])
        self.sharding = sharding
        self.stacked = NamedSharding(sharding.mesh, PartitionSpec(None, *sharding.spec))
        self.rows = local_rows(sharding, batch_size)
        """The positions in each global batch that this process feeds."""

    def _gather(self, array: np.ndarray, positions: np.ndarray) -> np.ndarray:
        flat = positions.reshape(-1)
        order = np.argsort(flat, kind="stable")  # read a memory map front to back
        out = np.empty((flat.size, *array.shape[1:]), array.dtype)
        out[order] = array[flat[order]]
        return out.reshape(*positions.shape, *array.shape[1:])

    def dispatch(self, order: np.ndarray, first: int, count: int) -> tuple[jax.Array, jax.Array | None]:
        """Batches ``first .. first + count - 1`` of the epoch ordered by ``order``, stacked and sharded.

        The result has ``steps_per_dispatch`` batches; those past ``count`` repeat the last one (the step
        skips them). Only this process's rows are read.
        """
        k, b = self.steps_per_dispatch, self.batch_size
        batches = np.minimum(np.arange(first, first + k), first + count - 1)
        positions = order[(batches[:, None] * b + self.rows[None, :])]  # (k, local rows): dataset indices
        global_shape = (k, b, *self.images.shape[1:])
        xs = jax.make_array_from_process_local_data(
            self.stacked, self._gather(self.images, positions), global_shape
        )
        ys = None
        if self.labels is not None:
            ys = jax.make_array_from_process_local_data(
                self.stacked, self._gather(self.labels, positions).astype(np.int32), (k, b)
            )
        return xs, ys

    def epoch(self, order: np.ndarray, steps: int) -> Iterator[tuple[jax.Array, jax.Array | None, int]]:
        """``(xs, ys, count)`` per dispatch of an epoch of ``steps`` batches ordered by ``order``, prefetched."""
        order = np.asarray(order)
        if order.shape != (self.size,):
            raise ValueError(f"the epoch order has shape {order.shape}, the split {self.size} rows")

        def produce() -> Iterator[tuple[jax.Array, jax.Array | None, int]]:
            for first in range(0, steps, self.steps_per_dispatch):
                count = min(self.steps_per_dispatch, steps - first)
                xs, ys = self.dispatch(order, first, count)
                yield xs, ys, count

        return prefetched(produce(), self.prefetch)


def eval_batches(
    images: np.ndarray, labels: np.ndarray | None, batch_size: int, sharding: NamedSharding, prefetch: int = 2
) -> Iterator[tuple[jax.Array, jax.Array | None]]:
    """The test split in order, ``batch_size`` rows at a time (the last may be shorter), prefetched.

    A batch that divides over the mesh is sharded as ``sharding`` (each process reads its rows only); a
    shorter last batch that does not is replicated.
    """
    replicated = NamedSharding(sharding.mesh, PartitionSpec())

    def put(chunk: np.ndarray) -> jax.Array:
        n = int(chunk.shape[0])
        if n % sharding.mesh.size == 0:
            return jax.make_array_from_process_local_data(sharding, np.asarray(chunk[local_rows(sharding, n)]),
                                                          chunk.shape)
        host = np.ascontiguousarray(chunk)
        return jax.make_array_from_callback(host.shape, replicated, lambda index: host[index])

    def produce() -> Iterator[tuple[jax.Array, jax.Array | None]]:
        for i in range(0, int(images.shape[0]), batch_size):
            x = put(images[i : i + batch_size])
            y = None if labels is None else put(np.asarray(labels[i : i + batch_size], dtype=np.int32))
            yield x, y

    return prefetched(produce(), prefetch)
