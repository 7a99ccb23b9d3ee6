"""The trainer as the user runs it: ``artifex train`` in a subprocess, timed from its own run folder.

- ``trainer``: the default ``artifex train`` (the MLP VAE 784-512-256-32 on MNIST, Adam) for a few epochs
  at batch 128 (as the throughput benchmark). Steady state = the median over epochs 2.. of (a) the
  training loop alone (``epoch_time_s`` in ``metrics.jsonl``) and (b) the whole epoch as the user waits
  for it: training, test evaluation and the checkpoint (differences of ``elapsed_s``).
- ``flax_example``: the configuration of Flax's VAE example (784-500-20, Adam 1e-3, batch 128, Bernoulli
  likelihood, dynamically binarized MNIST) for 30 epochs: wall time of the fit and of the whole command, and
  the final test -ELBO (the test split binarized once with a fixed seed).

Example:
    $ python benchmarks/trainer_bench.py --what trainer --epochs 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import MODELS, ROOT, emit  # noqa: E402

PY = sys.executable

# Registers MNIST when the built-in plugin of this checkout does not yet, then runs the real CLI.
_CLI = (
    "import sys\n"
    "from artifex_core import datasets\n"
    "if 'mnist' not in datasets:\n"
    "    datasets.register('mnist', 'artifex_plugins.data._mnist:load_mnist')\n"
    "from artifex_core.cli import main\n"
    "sys.argv[0] = 'artifex'\n"
    "main()\n"
)


def run_cli(args: list[str], timeout: float = 900) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``artifex ARGS`` in a fresh process; returns (wall seconds, the finished process)."""
    t0 = time.perf_counter()
    proc = subprocess.run([PY, "-c", _CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"artifex {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, proc


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in (run_dir / "metrics.jsonl").read_text().splitlines() if ln.strip()]


def steady_state(epochs: int, batch_size: int = 128) -> dict[str, Any]:
    """``artifex train --epochs N --batch-size B`` (default recipe otherwise) and its steady-state throughput."""
    with tempfile.TemporaryDirectory(prefix="artifex-bench-trainer-") as tmp:
        run_dir = Path(tmp) / "run"
        wall, _ = run_cli(["train", "--epochs", str(epochs), "--batch-size", str(batch_size), "--out", str(run_dir)])
        recs = _records(run_dir)
    steps = [r["step"] - (recs[i - 1]["step"] if i else 0) for i, r in enumerate(recs)]
    later = range(1, len(recs))
    loop = [steps[i] / recs[i]["epoch_time_s"] for i in later]
    whole = [steps[i] / (recs[i]["elapsed_s"] - recs[i - 1]["elapsed_s"]) for i in later]
    return {
        "kind": "trainer",
        "epochs": epochs,
        "batch_size": batch_size,
        "steps_per_epoch": steps[-1],
        "loop_steps_per_s": statistics.median(loop),
        "epoch_steps_per_s": statistics.median(whole),
        "loop_all": loop,
        "epoch_all": whole,
        "eval_s": statistics.median(r["eval_time_s"] for r in recs[1:]),
        "first_epoch_s": recs[0]["elapsed_s"],
        "command_wall_s": wall,
        "final_test_loss": recs[-1]["test"]["loss"],
    }


def flax_example(epochs: int = 30) -> dict[str, Any]:
    """The Flax VAE example's configuration through ``artifex train``."""
    spec = MODELS["flax_mlp"]
    config = {
        **spec.model_config(),
        "train": {
            "dataset": "mnist", "epochs": epochs, "batch_size": 128, "optimizer": "adam", "lr": 1e-3,
            "schedule": "constant", "binarize": "dynamic", "seed": 0,
        },
    }
    with tempfile.TemporaryDirectory(prefix="artifex-bench-flax-") as tmp:
        cfg_path = Path(tmp) / "flax_example.json"
        cfg_path.write_text(json.dumps(config))
        run_dir = Path(tmp) / "run"
        wall, proc = run_cli(["train", "--config", str(cfg_path), "--out", str(run_dir), "--json"], timeout=1800)
        summary = json.loads(proc.stdout)
        recs = _records(run_dir)
    return {
        "kind": "flax_example",
        "epochs": epochs,
        "command_wall_s": wall,
        "fit_s": summary["elapsed_s"],
        "train_loop_s": sum(r["epoch_time_s"] for r in recs),
        "eval_s": sum(r["eval_time_s"] for r in recs),
        "final_test_neg_elbo": recs[-1]["test"]["loss"],
        "best_test_neg_elbo": min(r["test"]["loss"] for r in recs),
        "test_curve": [round(r["test"]["loss"], 3) for r in recs],
    }


def main(argv: list[str] | None = None) -> None:
    """Run one measurement and print it as a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--what", choices=["trainer", "flax_example"], default="trainer")
    parser.add_argument("--epochs", type=int, default=None, help="default: 4 (trainer), 30 (flax_example)")
    args = parser.parse_args(argv)
    if args.what == "trainer":
        emit(steady_state(args.epochs or 4))
    else:
        emit(flax_example(args.epochs or 30))


if __name__ == "__main__":
    main()
