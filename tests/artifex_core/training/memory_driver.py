"""The memory-limit test's training process: ``python memory_driver.py PACK LIMIT_MB SUBSET_ROWS OUT``.

Measures the growth of this process's anonymous memory (``RssAnon``: heap and device buffers on CPU, not the
page cache a memory map reads through) while training, sampled every millisecond by a thread, over a baseline
taken once the step functions are compiled (a warm-up fit on a small in-memory dataset of the same shapes, whose
executables the measured fits load from the persistent compilation cache: compiling takes tens of MB itself).

1. The whole pack, ``data_placement="auto"`` with ``device_data_budget_mb=LIMIT_MB``: it must stream.
2. Its first ``SUBSET_ROWS`` rows, streamed from the pack, and the same rows copied into memory and trained
   device-resident: the metrics must be equal, and the device-resident run's growth shows the split on the
   device (so the measure would catch a loader that read the pack whole).
"""

from __future__ import annotations

import gc
import json
import sys
import threading
from pathlib import Path
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from flax import nnx

from artifex_core.data import Dataset, epoch_permutation, load_pack
from artifex_core.training import TrainConfig, Trainer, enable_compile_cache

sys.path.insert(0, str(Path(__file__).resolve().parent))
from toy_vae import ToyVAE  # noqa: E402

CFG = {"dataset": "big", "epochs": 1, "batch_size": 512, "eval_batch_size": 512, "log_every": 50,
       "steps_per_dispatch": 2, "binarize": "dynamic"}


def rss_anon() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def measured(load: Callable[[], Dataset], **cfg: Any) -> tuple[dict[str, Any], int]:
    """Load a dataset and train on it; returns what it recorded and the peak growth of RssAnon in bytes."""
    gc.collect()
    base, peak, stop = rss_anon(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_anon())
            stop.wait(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        dataset = load()
        model = ToyVAE(dataset.example_shape, rngs=nnx.Rngs(0))
        trainer = Trainer(model, TrainConfig(**{**CFG, **cfg}), dataset)
        result = trainer.fit()
        jax.block_until_ready(trainer._state_leaves)
        peak[0] = max(peak[0], rss_anon())
    finally:
        stop.set()
        thread.join()
    record = {"placement": trainer.data_placement, "steps": result.history[-1]["step"],
              "train": result.history[-1]["train"]["loss"], "test": result.history[-1]["test"]["loss"]}
    del trainer, model, result, dataset
    return record, peak[0] - base


def main() -> None:
    """Warm up, then measure the three fits; write the numbers to OUT."""
    PACK, LIMIT_MB, SUBSET, OUT = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    enable_compile_cache(OUT.parent / "jax-cache")  # the measured fits load the warm-up's executables, not compile
    packed = load_pack(PACK)
    assert isinstance(packed.train_images, np.memmap)
    rows = np.asarray(packed.train_images[:2048])
    warm = Dataset.from_arrays("big", rows, None, np.asarray(packed.test_images), None)
    for placement in ("stream", "device"):  # compile both paths' steps once, outside the measures
        measured(lambda: warm, data_placement=placement)
    for size in (packed.train_images.shape[0], SUBSET):  # and the epoch permutations (their size is static)
        epoch_permutation(jax.random.key(0), 0, int(size)).block_until_ready()
    out: dict[str, Any] = {"train_bytes": int(packed.train_images.nbytes), "limit_bytes": int(LIMIT_MB * 2**20)}
    out["full"], out["full_growth"] = measured(
        lambda: load_pack(PACK), data_placement="auto", device_data_budget_mb=LIMIT_MB
    )
    out["subset_stream"], out["subset_stream_growth"] = measured(
        lambda: load_pack(PACK).subset(SUBSET), data_placement="stream"
    )

    def in_memory() -> Dataset:
        """The in-memory path: the subset read into host memory, then put on the device."""
        subset = load_pack(PACK).subset(SUBSET)
        return Dataset.from_arrays("big", np.array(subset.train_images), None, np.array(subset.test_images), None)

    out["subset_device"], out["subset_device_growth"] = measured(in_memory, data_placement="device")
    OUT.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
