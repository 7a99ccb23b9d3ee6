"""One process of the per-process feeding test: ``python feeding_driver.py PORT NUM_PROCESSES PROCESS_ID OUT``.

With ``NUM_PROCESSES`` > 1 it joins a localhost run (gloo CPU collectives, 2 CPU devices a process); with 1 it
runs alone on 4 CPU devices. It feeds one epoch through :class:`~artifex_core.data.HostFeeder` and records, as
JSON in ``OUT``: the rows it read from the split, every addressable shard (its device, index and data) and the
global batches gathered from all processes; alone, also the metrics of a streamed and a device-resident fit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


class Recorded(np.ndarray):
    """An array that records the rows read from it (what a memory map would page in)."""

    reads: list[int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, np.ndarray):
            self.reads.extend(int(i) for i in key.reshape(-1))
        return np.asarray(np.ndarray.__getitem__(self, key))


N, B, K, STEPS = 40, 8, 2, 5  # 40 rows, batches of 8 over 4 devices, dispatches of 2 steps: 2, 2, 1


def main() -> None:
    """Join the run (or run alone), feed one epoch, write what was seen."""
    import jax

    PORT, NPROC, PID, OUT = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_num_cpu_devices", 4 // NPROC)
    if NPROC > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(
            coordinator_address=f"localhost:{PORT}", num_processes=NPROC, process_id=PID, initialization_timeout=60
        )

    from flax import nnx
    from jax.experimental import multihost_utils
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    from artifex_core.data import Dataset, HostFeeder, epoch_permutation
    from artifex_core.training import TrainConfig, Trainer

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
    from toy_vae import ToyVAE

    images = np.arange(N * 3, dtype=np.uint8).reshape(N, 3)
    labels = np.arange(N, dtype=np.int32) % 7
    recorded = images.view(Recorded)
    recorded.reads = []
    mesh = Mesh(np.array(jax.devices()), ("data",))
    feeder = HostFeeder(recorded, labels, batch_size=B, steps_per_dispatch=K,
                        sharding=NamedSharding(mesh, PartitionSpec("data")), prefetch=1)
    order = np.asarray(epoch_permutation(jax.random.key(0), 1, N))
    out: dict[str, Any] = {"process": jax.process_index(), "devices": jax.device_count(),
                           "local_devices": jax.local_device_count(), "rows": feeder.rows.tolist(),
                           "order": order.tolist(), "shards": [], "batches": [], "labels": []}
    for xs, ys, count in feeder.epoch(order, STEPS):
        for shard in xs.addressable_shards:
            index = [[s.start, s.stop] for s in shard.index]
            out["shards"].append({"device": shard.device.id, "index": index, "data": np.asarray(shard.data).tolist()})
        out["batches"].append(np.asarray(multihost_utils.process_allgather(xs, tiled=True)).tolist())
        assert ys is not None
        out["labels"].append(np.asarray(multihost_utils.process_allgather(ys, tiled=True)).tolist())
        out.setdefault("counts", []).append(count)
    out["reads"] = sorted(recorded.reads)

    # a whole fit on grey levels over the 4 devices, streamed and device-resident (one process: the trainer's
    # multi-process state placement is the multi-process runtime's part, tested with `artifex train`)
    fits = {}
    if NPROC == 1:
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (120, 6, 6, 1), dtype=np.uint8)
        ds = Dataset.from_arrays("gray", x[:96], None, x[96:], None)
        for placement in ("stream", "device"):
            cfg = TrainConfig(dataset="gray", epochs=2, batch_size=16, eval_batch_size=12, log_every=3,
                              steps_per_dispatch=2, binarize="dynamic", data_placement=placement)
            result = Trainer(ToyVAE((6, 6, 1), rngs=nnx.Rngs(0)), cfg, ds).fit()
            fits[placement] = [(r["train"]["loss"], r["test"]["loss"]) for r in result.history]
    out["fits"] = fits
    OUT.write_text(json.dumps(out))
    if NPROC > 1:
        jax.distributed.shutdown()


if __name__ == "__main__":
    main()
