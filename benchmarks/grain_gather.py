"""Why the streaming path gathers with NumPy and not grain: one epoch of MNIST-sized batches, both ways.

Feeds one epoch (60000 random ``uint8`` 28x28 rows, batches of 128, in one global permutation as the trainer
orders them) three ways: the NumPy gather the host feeder does (``images[order[batch]]``), grain's
``MapDataset.source(order).map(read).batch(128)`` read by index, and the same through ``to_iter_dataset`` with
2 reader threads. grain is not a dependency of artifex; install it to run this
(``pip install grain``).

Example:
    $ python benchmarks/grain_gather.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

N, B = 60000, 128


def best(run: Callable[[], None], repeats: int) -> float:
    """The fastest of ``repeats`` timed runs, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    try:
        import grain
    except ImportError:
        sys.exit("grain is not installed: pip install grain")
    images = np.random.default_rng(0).integers(0, 256, (N, 28, 28, 1), dtype=np.uint8)
    order = np.random.default_rng(1).permutation(N)
    steps = N // B

    def numpy_epoch() -> None:
        for i in range(steps):
            images[order[i * B : (i + 1) * B]]

    def dataset() -> grain.MapDataset:
        return grain.MapDataset.source(order).map(lambda j: images[j]).batch(B, drop_remainder=True)

    def grain_by_index() -> None:
        ds = dataset()
        for i in range(len(ds)):
            ds[i]

    def grain_threads() -> None:
        for _ in dataset().to_iter_dataset(grain.ReadOptions(num_threads=2, prefetch_buffer_size=64)):
            pass

    rows = steps * B
    print(f"one epoch of {steps} batches of {B} MNIST-sized rows")
    for name, run, repeats in (("numpy gather (artifex)", numpy_epoch, 3), ("grain MapDataset by index", grain_by_index, 1),
                               ("grain to_iter_dataset, 2 threads", grain_threads, 1)):
        seconds = best(run, repeats)
        print(f"{name:<34} {seconds:8.3f} s {rows / seconds:>12,.0f} examples/s")


if __name__ == "__main__":
    main()
