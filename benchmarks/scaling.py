"""Multi-process scaling: ``artifex train`` examples/s with 1, 2 and 4 processes on forced CPU devices.

Every case trains the same run (the default MLP VAE recipe, the same seed, global batch and data) on four
CPU devices in all: 1 process x 4 devices, 2 x 2 and 4 x 1, the processes joined on localhost through JAX's
distributed runtime (gloo collectives), plus 1 process x 1 device as the baseline. The number is the median
``examples_per_s`` of ``metrics.jsonl`` over the epochs after the first (which compiles); the final test loss
is printed too, and must agree across cases (the runs are the same computation).

On a machine with few cores the processes share them: the table then shows the cost of the collectives
and of the processes themselves, not a speed-up. The speed-up comes with one process per machine (or per
accelerator), each with its own cores.

A second table compares the host-streaming input path (``--set train.data_placement=stream``: each batch
gathered by NumPy on the host, fed with ``jax.make_array_from_process_local_data`` and prefetched by a
thread) with the device-resident one (both splits on the device, batches gathered inside the jitted step),
for 1 process x 1 device and 2 processes x 2 devices, and streamed from a pack (``artifex data pack``'s
memory-mapped ``.npy`` files, ``--dataset PACK``). The same run, so the test loss agrees with the resident row.

Example:
    $ python benchmarks/scaling.py                    # the table (about 7 minutes on 2 cores)
    $ python benchmarks/scaling.py --limit 2048 --epochs 3 --json
    $ python benchmarks/scaling.py --no-streaming     # the scaling table alone
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

CASES = ((1, 1), (1, 4), (2, 2), (4, 1))
"""(processes, devices per process)."""


@dataclass(frozen=True)
class Row:
    """One measured case of the table."""

    setup: str
    placement: str
    processes: int
    devices: int
    examples_per_s: float
    epoch_s: float
    wall_s: float
    test_loss: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(devices: int, cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "ARTIFEX_CACHE_DIR": str(cache),
        "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


STREAMING = (("stream", 1, 1, False), ("stream", 2, 2, False), ("stream", 1, 1, True))
"""(data placement, processes, devices per process, from a pack) of the streaming table."""


def train_args(out: Path, limit: int, epochs: int, batch_size: int, extra: tuple[str, ...] = ()) -> list[str]:
    """The ``artifex train`` command of every case (the default recipe: the MLP VAE on MNIST)."""
    return [
        sys.executable, "-m", "artifex_core.cli", "train", "--out", str(out), "--limit", str(limit),
        "--epochs", str(epochs), "--batch-size", str(batch_size), "--seed", "0", "--quiet", *extra,
    ]


def run_case(processes: int, devices: int, args: list[str], cache: Path, timeout_s: float = 1200) -> float:
    """Run one case (every process to its end); returns the wall time. Raises on a failed process."""
    start = time.perf_counter()
    if processes == 1:
        cmds = [args]
    else:
        port = _free_port()
        cmds = [[*args, "--coordinator", f"127.0.0.1:{port}", "--num-processes", str(processes),
                 "--process-id", str(i), "--distributed-timeout", "120"] for i in range(processes)]
    procs = [subprocess.Popen(c, env=_env(devices, cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in cmds]
    try:
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=timeout_s)
            if p.returncode != 0:
                raise RuntimeError(f"{processes}x{devices} process {i} exited {p.returncode}: {err[-2000:]}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return time.perf_counter() - start


def measure(processes: int, devices: int, limit: int, epochs: int, batch_size: int, work: Path,
            placement: str = "device", pack: Path | None = None) -> Row:
    """Train one case in a fresh run folder and read its throughput from ``metrics.jsonl``.

    ``placement`` is the run's ``train.data_placement``; ``pack`` a pack folder to train from (``--dataset``).
    """
    out = work / f"p{processes}-d{devices}-{placement}{'-pack' if pack else ''}"
    extra = ("--set", f"train.data_placement={placement}", *(("--dataset", str(pack)) if pack else ()))
    wall = run_case(processes, devices, train_args(out, limit, epochs, batch_size, extra), work / "xla-cache")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    later = records[1:] or records  # the first epoch compiles
    recorded = json.loads((out / "config.json").read_text())["train"]["data_placement"]
    if recorded != placement:
        raise RuntimeError(f"{out}: config.json records data_placement={recorded!r}, asked for {placement!r}")
    setup = f"{processes} process{'es' if processes > 1 else ''} x {devices} device{'s' if devices > 1 else ''}"
    return Row(
        setup=setup + (", from a pack" if pack else ""),
        placement=placement,
        processes=processes,
        devices=processes * devices,
        examples_per_s=round(statistics.median(r["examples_per_s"] for r in later), 1),
        epoch_s=round(statistics.median(r["epoch_time_s"] for r in later), 3),
        wall_s=round(wall, 1),
        test_loss=round(records[-1]["test"]["loss"], 4),
    )


def write_mnist_pack(limit: int, folder: Path) -> Path:
    """The first ``limit`` examples of each MNIST split as a pack in ``folder`` (what ``artifex data pack`` writes)."""
    import numpy as np

    from artifex_core.data import load_dataset, write_pack  # NumPy only: no JAX in this process

    path = folder / "mnist-pack"
    write_pack(load_dataset("mnist", limit=limit), path)
    assert isinstance(np.load(path / "train_images.npy", mmap_mode="r"), np.memmap)
    return path


def streaming_rows(limit: int, epochs: int, batch_size: int, work: Path) -> list[Row]:
    """The streaming cases of :data:`STREAMING`, measured as :func:`measure` measures the resident ones."""
    pack = write_mnist_pack(limit, work)
    return [measure(p, d, limit, epochs, batch_size, work, placement, pack if from_pack else None)
            for placement, p, d, from_pack in STREAMING]


def table(rows: list[Row]) -> str:
    """The Markdown table of ``docs/benchmarks.md``."""
    base = rows[0].examples_per_s if rows else 1.0
    lines = [
        "| setup | devices in all | examples/s | × 1 process, 1 device | epoch s | wall s (with start-up) | test loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.setup} | {r.devices} | {r.examples_per_s:,.0f} | {r.examples_per_s / base:.2f} | {r.epoch_s:.2f} "
            f"| {r.wall_s:.1f} | {r.test_loss:.4f} |"
        )
    return "\n".join(lines)


def streaming_table(resident: list[Row], streamed: list[Row]) -> str:
    """The streaming-vs-resident Markdown table: each streamed row against the resident row of its setup."""
    by_setup = {(r.processes, r.devices): r for r in resident}
    lines = [
        "| setup | data placement | examples/s | × resident | epoch s | wall s (with start-up) | test loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in [row for s in streamed if (row := by_setup.get((s.processes, s.devices))) is not None] + streamed:
        base = by_setup[(r.processes, r.devices)].examples_per_s or 1.0
        lines.append(
            f"| {r.setup} | {r.placement} | {r.examples_per_s:,.0f} | {r.examples_per_s / base:.2f} "
            f"| {r.epoch_s:.2f} | {r.wall_s:.1f} | {r.test_loss:.4f} |"
        )
    return "\n".join(dict.fromkeys(lines))  # a resident row once even when two streamed rows share it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=2048, help="Examples of each split (default 2048).")
    parser.add_argument("--epochs", type=int, default=4, help="Epochs per case; the first is not counted.")
    parser.add_argument("--batch-size", type=int, default=128, help="Global batch size (divides over 4 devices).")
    parser.add_argument("--no-streaming", action="store_true", help="Skip the streaming-vs-resident table.")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON.")
    args = parser.parse_args(argv)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="artifex-scaling-") as tmp:
        work = Path(tmp)
        rows = [measure(p, d, args.limit, args.epochs, args.batch_size, work) for p, d in CASES]
        streamed = [] if args.no_streaming else streaming_rows(args.limit, args.epochs, args.batch_size, work)
    info: dict[str, Any] = {"cpus": os.cpu_count(), "limit": args.limit, "epochs": args.epochs,
                            "batch_size": args.batch_size,
                            "load": f"{load_before} before, " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + " after"}
    if args.json:
        print(json.dumps({"info": info, "rows": [asdict(r) for r in rows],
                          "streaming": [asdict(r) for r in streamed]}, indent=2))
    else:
        print(f"MLP VAE (default recipe), MNIST first {args.limit}, global batch {args.batch_size}, "
              f"{args.epochs} epochs, {info['cpus']} CPUs, load average {info['load']}")
        print(table(rows))
        if streamed:
            print()
            print("Streaming from the host vs device-resident:")
            print(streaming_table(rows, streamed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
