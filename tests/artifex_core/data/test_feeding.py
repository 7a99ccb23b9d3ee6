"""The host feeder: each process reads and holds only its rows of every batch; prefetching keeps order and errors.

The multi-process test runs ``feeding_driver.py`` as 2 processes x 2 CPU devices on localhost (gloo collectives,
``jax.distributed.initialize`` on a free port) and as 1 process x 4 devices, and compares them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from artifex_core.data import HostFeeder, local_rows
from artifex_core.data._feeding import eval_batches, prefetched

DRIVER = Path(__file__).with_name("feeding_driver.py")
N, B, K, STEPS = 40, 8, 2, 5  # as in the driver


def _sharding() -> NamedSharding:
    return NamedSharding(Mesh(np.array(jax.devices()[:1]), ("data",)), PartitionSpec("data"))


def test_one_process_feeds_whole_batches_in_the_epoch_order() -> None:
    images = np.arange(30 * 2, dtype=np.float32).reshape(30, 2)
    labels = np.arange(30, dtype=np.int32)
    feeder = HostFeeder(images, labels, batch_size=4, steps_per_dispatch=3, sharding=_sharding(), prefetch=2)
    assert feeder.rows.tolist() == [0, 1, 2, 3] == local_rows(_sharding(), 4).tolist()
    order = np.random.default_rng(0).permutation(30)
    fed = list(feeder.epoch(order, 7))
    assert [count for _, _, count in fed] == [3, 3, 1]
    assert all(xs.shape == (3, 4, 2) and ys is not None and ys.shape == (3, 4) for xs, ys, _ in fed)
    batches = [np.asarray(xs)[i] for xs, _, count in fed for i in range(count)]
    for step, batch in enumerate(batches):
        np.testing.assert_array_equal(batch, images[order[step * 4 : step * 4 + 4]])
    np.testing.assert_array_equal(np.asarray(fed[2][1])[0], order[24:28])
    np.testing.assert_array_equal(np.asarray(fed[2][0])[1], np.asarray(fed[2][0])[0])  # padding repeats
    with pytest.raises(ValueError, match=r"the epoch order has shape \(29,\), the split 30 rows"):
        next(feeder.epoch(order[:29], 7))


def test_eval_batches_cover_the_split_in_order() -> None:
    images = np.arange(10, dtype=np.uint8).reshape(10, 1)
    got = list(eval_batches(images, np.arange(10), 4, _sharding()))
    assert [np.asarray(x).ravel().tolist() for x, _ in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(y is not None and y.dtype == np.int32 for _, y in got)


def test_prefetch_runs_ahead_raises_errors_and_stops_when_abandoned() -> None:
    made: list[int] = []

    def produce(fail_at: int | None = None) -> Iterator[int]:
        for i in range(100):
            if i == fail_at:
                raise RuntimeError(f"bad item {i}")
            made.append(i)
            yield i

    items = prefetched(produce(), 3)
    assert next(items) == 0
    deadline = time.monotonic() + 20
    while len(made) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(made) == 5  # the one handed out, 3 waiting in the queue, 1 blocked on putting: no further
    items.close()  # the consumer leaves early: the thread ends
    assert len(made) == 5 and not [t for t in threading.enumerate() if t.name == "artifex-prefetch"]
    with pytest.raises(RuntimeError, match="bad item 2"):
        list(prefetched(produce(fail_at=2), 2))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return int(sock.getsockname()[1])


def _run(tmp_path: Path, nproc: int) -> list[dict[str, Any]]:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}
    env.pop("XLA_FLAGS", None)
    port = _free_port()
    outs = [tmp_path / f"{nproc}-{pid}.json" for pid in range(nproc)]
    procs = [
        subprocess.Popen([sys.executable, str(DRIVER), str(port), str(nproc), str(pid), str(out)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for pid, out in enumerate(outs)
    ]
    try:
        logs = [proc.communicate(timeout=240)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, log in zip(procs, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
    return [json.loads(out.read_text()) for out in outs]


def test_two_processes_hold_only_their_rows_and_assemble_the_single_process_batches(tmp_path: Path) -> None:
    (single,) = _run(tmp_path, 1)
    procs = _run(tmp_path, 2)
    order = np.asarray(single["order"])
    images = np.arange(N * 3, dtype=np.uint8).reshape(N, 3)
    assert single["devices"] == 4 and single["local_devices"] == 4 and single["rows"] == list(range(B))
    for p, out in enumerate(procs):
        assert out["process"] == p and out["devices"] == 4 and out["local_devices"] == 2
        assert out["order"] == single["order"]  # one global permutation from (seed, epoch)
        mine = list(range(p * B // 2, (p + 1) * B // 2))
        assert out["rows"] == mine  # the batch rows its two devices own
        dispatched = [min(d * K + i, STEPS - 1) for d in range(3) for i in range(K)]  # the padded last dispatch
        assert out["reads"] == sorted(int(order[b * B + r]) for b in dispatched for r in mine)  # its share only
        assert len(out["shards"]) == 3 * 2  # 3 dispatches x its 2 devices: no other process's shard
        for n, shard in enumerate(out["shards"]):
            dispatch, (_, (lo, hi), _) = n // 2, shard["index"]
            assert lo >= mine[0] and hi <= mine[-1] + 1 and hi - lo == B // 4
            for i, rows in enumerate(shard["data"]):
                batch = min(dispatch * K + i, STEPS - 1)
                assert rows == images[order[batch * B + lo : batch * B + hi]].tolist()
        assert out["batches"] == single["batches"]  # the global batches equal the single-process ones
        assert out["labels"] == single["labels"] and out["counts"] == single["counts"] == [2, 2, 1]
    assert {s["device"] for s in procs[0]["shards"]}.isdisjoint({s["device"] for s in procs[1]["shards"]})
    # one process over 4 devices, streamed and device-resident: equal metrics (bit for bit)
    assert single["fits"]["stream"] == single["fits"]["device"]
