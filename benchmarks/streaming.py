"""Throughput of the host-streaming input path against the device-resident one, on the MLP VAE and MNIST.

Three cases, each in a fresh process (the default recipe's model, 784-512-256-32, Adam, dynamic binarization):

- ``device``: ``data_placement="device"``: both splits on the device, batches gathered inside the jitted step;
- ``stream``: ``data_placement="stream"`` from the arrays in host memory (each batch gathered by NumPy, fed
  with ``jax.make_array_from_process_local_data``, prefetched by a thread);
- ``stream-pack``: the same from a pack (``artifex data pack``), read through memory maps.

Steady state = the median over epochs 2.. of examples / ``epoch_time_s`` (the training loop alone); the final
test loss shows that the three train the same model (equal to the last digit). On a 2-core CPU the host's
gather and transfer compete with the step for the same cores; on an accelerator they overlap with it.

Example:
    $ python benchmarks/streaming.py --epochs 3 --limit 20000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CASES = ("device", "stream", "stream-pack")
RESULT = "STREAMING_RESULT "


def run_case(case: str, epochs: int, limit: int | None, batch_size: int, pack: Path) -> dict[str, Any]:
    """Train one case in this process; returns its numbers."""
    from flax import nnx  # noqa: F401 - JAX is imported here, in the case's own process

    from artifex_core.data import load_dataset, load_pack
    from artifex_core.training import TrainConfig, Trainer, build_model, model_config_for
    from artifex_core.training._recipes import default_recipe

    model_part, train_part = default_recipe()
    dataset = load_pack(pack).subset(limit) if case == "stream-pack" else load_dataset("mnist", limit=limit)
    model_cfg = model_config_for(model_part, dataset)
    placement = "device" if case == "device" else "stream"
    binarize = TrainConfig(**train_part).resolved_binarize(model_cfg)  # the recipe's "auto", as artifex train does
    cfg = TrainConfig(**{**train_part, "epochs": epochs, "batch_size": batch_size, "data_placement": placement,
                         "binarize": binarize})
    trainer = Trainer(build_model(model_cfg, cfg.seed), cfg, dataset)
    history = trainer.fit().history
    rates = [trainer.steps_per_epoch * batch_size / r["epoch_time_s"] for r in history[1:]] or [0.0]
    return {
        "case": case,
        "placement": trainer.data_placement,
        "examples_per_s": round(statistics.median(rates), 1),
        "first_epoch_s": round(history[0]["epoch_time_s"], 2),
        "test_loss": history[-1]["test"]["loss"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _pack(folder: Path) -> Path:
    """MNIST as a pack in ``folder``."""
    import numpy as np

    from artifex_core.data import load_dataset, write_pack

    ds = load_dataset("mnist")
    path = folder / "mnist"
    write_pack(ds, path)
    assert isinstance(np.load(path / "train_images.npy", mmap_mode="r"), np.memmap)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="Examples of each split (default: all).")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="Print JSON only.")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--pack", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(RESULT + json.dumps(run_case(args.case, args.epochs, args.limit, args.batch_size, args.pack)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="artifex-bench-streaming-") as tmp:
        pack = _pack(Path(tmp))
        for case in CASES:
            cmd = [sys.executable, __file__, "--case", case, "--pack", str(pack), "--epochs", str(args.epochs),
                   "--batch-size", str(args.batch_size)] + (["--limit", str(args.limit)] if args.limit else [])
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
            if proc.returncode != 0:
                sys.exit(f"case {case} failed:\n{proc.stderr[-3000:]}")
            line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT))
            results.append(json.loads(line.removeprefix(RESULT)))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    base = results[0]["examples_per_s"] or 1.0
    print(f"MLP VAE, batch {args.batch_size}, {args.epochs} epochs, {os.cpu_count()} CPUs")
    print(f"{'case':<12} {'examples/s':>11} {'vs device':>10} {'1st epoch s':>12} {'test loss':>10} {'peak RSS MB':>12}")
    for r in results:
        print(f"{r['case']:<12} {r['examples_per_s']:>11,.0f} {r['examples_per_s'] / base:>10.2f} "
              f"{r['first_epoch_s']:>12.2f} {r['test_loss']:>10.4f} {r['peak_rss_mb']:>12,.0f}")


if __name__ == "__main__":
    main()
