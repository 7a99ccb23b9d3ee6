"""A dataset larger than a memory limit trains through the streaming path, within the limit.

``memory_driver.py`` trains in a subprocess and measures the growth of its anonymous memory (the heap and, on
CPU, the device buffers; a memory map's pages are file-backed, evictable cache). An RLIMIT is no measure here:
JAX reserves far more address space than it uses, and a memory map counts towards the address space. glibc's
allocator is told to return every buffer of 128 KiB or more to the system when freed
(``MALLOC_MMAP_THRESHOLD_``): otherwise the freed batch buffers stay in its arenas and count as memory in use.
What the process needs besides the data (loading the executables, the model, the test split) is about 25 MiB
whatever the size of the data; a 96 MiB split on the device adds 96 MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from artifex_core.data import Dataset, write_pack

HERE = Path(__file__).parent
LIMIT_MB = 40.0
ROWS, SHAPE, SUBSET = 96 * 1024, (32, 32, 1), 32 * 1024  # 96 MiB of training images; the subset 32 MiB


def _big_pack(tmp_path: Path) -> Path:
    """A 96 MiB pack written chunk by chunk (this process never holds it whole either)."""
    source = np.lib.format.open_memmap(tmp_path / "src.npy", mode="w+", dtype=np.uint8, shape=(ROWS, *SHAPE))
    rng = np.random.default_rng(0)
    for start in range(0, ROWS, 8192):
        source[start : start + 8192] = rng.integers(0, 256, (8192, *SHAPE), dtype=np.uint8)
    source.flush()
    test = rng.integers(0, 256, (1024, *SHAPE), dtype=np.uint8)
    write_pack(Dataset.from_arrays("big", source, None, test, None), tmp_path / "big")
    del source
    (tmp_path / "src.npy").unlink()
    return tmp_path / "big"


def test_a_pack_larger_than_the_limit_streams_within_it_and_matches_the_in_memory_path(tmp_path: Path) -> None:
    pack = _big_pack(tmp_path)
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin",
           "MALLOC_MMAP_THRESHOLD_": "131072"}
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run(
        [sys.executable, str(HERE / "memory_driver.py"), str(pack), str(LIMIT_MB), str(SUBSET), str(tmp_path / "out.json")],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    limit = out["limit_bytes"]
    assert out["train_bytes"] == ROWS * 1024 > 2 * limit
    assert out["full"]["placement"] == "stream" and out["full"]["steps"] == ROWS // 512  # auto chose to stream
    assert out["full_growth"] < limit, out
    assert np.isfinite(out["full"]["train"]) and np.isfinite(out["full"]["test"])
    # on a subset that the in-memory path can hold: the same metrics, bit for bit
    assert out["subset_stream"]["placement"] == "stream" and out["subset_device"]["placement"] == "device"
    assert out["subset_stream"]["train"] == out["subset_device"]["train"]
    assert out["subset_stream"]["test"] == out["subset_device"]["test"]
    assert out["subset_stream_growth"] < limit, out
    assert out["subset_device_growth"] > SUBSET * 1024, out  # the measure sees a split held in memory
    # streaming 3 times the data takes no more memory (within 16 MiB of noise; the extra data are 64 MiB)
    assert out["full_growth"] - out["subset_stream_growth"] < 16 * 2**20, out
