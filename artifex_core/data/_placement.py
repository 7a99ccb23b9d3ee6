"""Where the training data live: on every device (the fast path) or on the host, streamed batch by batch.

The device-resident path copies both splits to every device of the mesh (replicated) and gathers each batch
inside the jitted step; it is the fastest when the data fit. :func:`choose_placement` resolves
``data_placement="auto"``: ``stream`` when the splits take more than the budget of one device
(``device_data_budget_mb``, else half of the first device's free memory; on CPU the process's devices share the
host's memory, so the budget is divided among them). NumPy only; the device memory is asked of JAX lazily.

Example:
    >>> import numpy as np
    >>> from artifex_core.data._dataset import Dataset
    >>> ds = Dataset.from_arrays("toy", np.zeros((1024, 32, 32), np.uint8), None, np.zeros((64, 32, 32), np.uint8))
    >>> split_bytes(ds)
    1114112
    >>> choose_placement("auto", ds, budget_bytes=2**20)
    'stream'
    >>> choose_placement("auto", ds, budget_bytes=2**21)
    'device'
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from artifex_core.data._dataset import Dataset, DatasetError

__all__ = ["PLACEMENTS", "Placement", "choose_placement", "device_budget_bytes", "split_bytes"]

Placement = Literal["device", "stream"]
PLACEMENTS = ("auto", "device", "stream")


def split_bytes(dataset: Dataset) -> int:
    """Bytes of both splits' images and labels, as the device-resident path holds them (labels ``int32``)."""
    total = int(dataset.train_images.nbytes) + int(dataset.test_images.nbytes)
    for labels in (dataset.train_labels, dataset.test_labels):
        if labels is not None:
            total += 4 * int(np.shape(labels)[0])
    return total


def device_budget_bytes(budget_mb: float | None, local_devices: int) -> int | None:
    """The bytes of data one device may hold: ``budget_mb`` MiB, else half the free memory (None: unknown).

    On CPU the process's ``local_devices`` share the host memory, each holding a replica of the splits.
    """
    if budget_mb is not None:
        return int(budget_mb * 2**20)
    import jax

    from artifex_core.training._resources import available_memory

    free = available_memory()
    if free is None:
        return None
    share = max(1, local_devices) if jax.local_devices()[0].platform == "cpu" else 1
    return free // 2 // share


def choose_placement(placement: str, dataset: Dataset, *, budget_bytes: int | None) -> Placement:
    """Resolve ``placement`` (``auto``, ``device`` or ``stream``) for ``dataset`` and a per-device budget.

    Raises:
        DatasetError: An unknown placement (naming the allowed ones).
    """
    if placement == "device":
        return "device"
    if placement == "stream":
        return "stream"
    if placement != "auto":
        raise DatasetError(f"data_placement {placement!r} is not one of {', '.join(PLACEMENTS)}")
    if budget_bytes is None:
        return "device"
    return "stream" if split_bytes(dataset) > budget_bytes else "device"
