"""Run the artifex benchmark suite and print every table, with the ratios and the targets of issue 5.

Each measurement runs in its own fresh process (JAX and PyTorch never share one, so peak memory is each
framework's own), one after another, on the same machine in the same invocation:

- ``throughput``: training steps/s (median of several timed repeats after warm-up), examples/s, compile time,
  peak RSS and GFLOP/s for the MLP VAE, the conv VAE and the VQ-VAE: artifex (the library's classes and
  train step: one step per dispatch, and ``lax.scan`` over several) against PyTorch eager, eager with fused
  Adam, and ``torch.compile`` with a compiled optimizer step; plus XLA's matmul-only limit for the MLP.
- ``startup``: time to the first training step of ``artifex train`` (cold and warm compilation cache) and of
  PyTorch; ``artifex list`` against ``python -c "import flax.nnx"``.
- ``trainer``: ``artifex train`` as the user runs it, steady state, against the raw step.
- ``train``: ``artifex train`` itself side by side with PyTorch eager, fused Adam and ``torch.compile`` on the
  same model, loss and batch, for the MLP and the conv VAE (``train_side_by_side.py``): examples/s after epoch 1
  from ``metrics.jsonl``, ratios of the medians of alternating rounds, and the issue-14 targets.
- ``conv_profile`` (not with ``--quick``): the conv VAE's convolutions layer by layer, XLA:CPU against PyTorch,
  and whole steps with the alternative convolution implementations tried.
- ``flax_example`` (only with ``--flax-example``, takes minutes): Flax's VAE example configuration, 30 epochs.

Example:
    $ pip install -e ".[bench]"                        # PyTorch 2.13 (CPU build) for the comparison
    $ python benchmarks/run.py --quick                  # ~2 minutes, fewer repeats
    $ python benchmarks/run.py --flax-example --json results.json --markdown results.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT, load_average, machine_info, parse_results  # noqa: E402
from report import render  # noqa: E402

PY = sys.executable
MALLOC_TUNING = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
"""glibc malloc settings of ``--malloc-tuning``: one arena, no mmap'ed chunks, never trim (no page faults per step)."""
WORKER_ENV: dict[str, str] = {}
SECTIONS = ("throughput", "startup", "trainer", "train", "conv_profile", "flax_example")


def _worker(script: str, args: list[str], timeout: float) -> list[dict[str, Any]]:
    """Run ``benchmarks/SCRIPT ARGS`` in a fresh process and collect its result lines."""
    cmd = [PY, str(HERE / script), *args]
    print(f"  $ {Path(PY).name} benchmarks/{script} {' '.join(args)}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env={**os.environ, **WORKER_ENV})
    except subprocess.TimeoutExpired as exc:  # keep what it measured before the timeout
        print(f"    timed out after {timeout:.0f} s", file=sys.stderr)
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return [*parse_results(partial), {"error": f"timeout after {timeout:.0f} s", "cmd": " ".join(cmd)}]
    results = parse_results(proc.stdout)
    load = load_average()[0]
    for r in results:
        r["load_after"] = load
    print(f"    {time.perf_counter() - t0:.1f} s, load {load:.2f}", file=sys.stderr, flush=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        results.append({"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed", "cmd": " ".join(cmd)})
    return results


def plan(quick: bool, torch_ok: bool) -> list[tuple[str, list[str], float]]:
    """The throughput workers to run: (script, args, timeout)."""
    steps, reps = ("100", "3") if quick else ("300", "7")
    conv_steps, conv_reps = ("10", "3") if quick else ("20", "5")
    jobs: list[tuple[str, list[str], float]] = [
        # the library's scan step alone in its process: its peak RSS is the MLP benchmark's memory
        ("jax_bench.py", ["--case", "mlp", "--variants", "scan", "--steps", steps, "--repeats", reps], 600),
        ("jax_bench.py", ["--case", "mlp", "--variants", "matmul_limit,step" + ("" if quick else ",nnx_jit"), "--steps", steps, "--repeats", reps], 600),
        ("jax_bench.py", ["--case", "conv", "--variants", "step", "--steps", conv_steps, "--repeats", conv_reps], 600),
        ("jax_bench.py", ["--case", "vq", "--variants", "step,scan", "--steps", steps, "--repeats", reps], 600),
    ]
    if not quick:  # convolutions inside lax.scan: why the trainer dispatches conv models one step at a time
        jobs.append(("jax_bench.py", ["--case", "conv", "--variants", "scan", "--steps", "10", "--repeats", "2", "--scan-steps", "5"], 600))
    if torch_ok:
        torch_variants = "eager,fused,compile"
        jobs += [
            ("torch_reference.py", ["--case", "mlp", "--variants", torch_variants, "--steps", steps, "--repeats", reps], 900),
            ("torch_reference.py", ["--case", "conv", "--variants", "eager" if quick else torch_variants, "--steps", conv_steps, "--repeats", conv_reps], 1200),
            ("torch_reference.py", ["--case", "conv_transpose", "--variants", "eager", "--steps", conv_steps, "--repeats", conv_reps], 600),
            ("torch_reference.py", ["--case", "vq", "--variants", "eager" if quick else torch_variants, "--steps", steps, "--repeats", reps], 900),
        ]
    return jobs


def versions() -> dict[str, str]:
    """Versions of the frameworks (read from package metadata: nothing is imported here)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("artifex-vae", "jax", "jaxlib", "flax", "optax", "numpy", "torch"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections, print the tables, optionally save JSON and Markdown."""
    parser = argparse.ArgumentParser(
        description="artifex benchmark suite: JAX (the library) vs PyTorch on the same models, with ratios.",
        epilog="Numbers on a shared machine are noisy: check `uptime` and run when it is quiet.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats, no torch.compile for conv/VQ (~2 min)")
    parser.add_argument("--flax-example", action="store_true", help="also train Flax's VAE example config for 30 MNIST epochs (minutes)")
    parser.add_argument("--only", default=None, help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument(
        "--malloc-tuning", action="store_true",
        help="run every worker (both frameworks) with MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1G",
    )
    parser.add_argument("--trainer-epochs", type=int, default=None, help="epochs of the trainer run (default 3, quick 2)")
    parser.add_argument("--train-repeats", type=int, default=3, help="alternating rounds of the train section")
    parser.add_argument("--json", type=Path, default=None, help="write all raw results here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables here as Markdown")
    parser.add_argument("--from-json", type=Path, default=None, help="only render the tables of a saved --json file")
    args = parser.parse_args(argv)

    if args.from_json is not None:
        data = json.loads(args.from_json.read_text())
    else:
        sections = SECTIONS[:4] + (() if args.quick else ("conv_profile",)) + (("flax_example",) if args.flax_example else ())
        if args.only:
            sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
            unknown = set(sections) - set(SECTIONS)
            if unknown:
                parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
        if args.malloc_tuning:
            WORKER_ENV.update(MALLOC_TUNING)
        torch_ok = not args.no_torch and importlib.util.find_spec("torch") is not None
        if not torch_ok and not args.no_torch:
            print("PyTorch is not installed (pip install -e '.[bench]'): PyTorch columns stay empty", file=sys.stderr)
        data = {
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "versions": versions(),
            "quick": args.quick,
            "worker_env": dict(WORKER_ENV),
            "load_before": load_average(),
            "results": [],
        }
        started = time.perf_counter()
        if "throughput" in sections:
            print("throughput:", file=sys.stderr)
            for script, wargs, timeout in plan(args.quick, torch_ok):
                data["results"] += _worker(script, wargs, timeout)
        if "startup" in sections:
            print("start-up:", file=sys.stderr)
            data["results"] += _worker("startup.py", ["--repeats", "2" if args.quick else "3"] + ([] if torch_ok else ["--no-torch"]), 900)
        if "trainer" in sections:
            print("trainer:", file=sys.stderr)
            epochs = args.trainer_epochs or (2 if args.quick else 3)
            data["results"] += _worker("trainer_bench.py", ["--what", "trainer", "--epochs", str(epochs)], 1200)
        if "train" in sections:
            print("artifex train side by side with PyTorch:", file=sys.stderr)
            side = ["--quick"] if args.quick else ["--repeats", str(args.train_repeats)]
            data["results"] += _worker("train_side_by_side.py", side + (["--no-torch"] if not torch_ok else []), 3600)
        if "conv_profile" in sections:
            print("conv profile:", file=sys.stderr)
            data["results"] += _worker("conv_profile.py", ["--framework", "jax", "--part", "layers"], 600)
            if torch_ok:
                data["results"] += _worker("conv_profile.py", ["--framework", "torch", "--part", "layers"], 600)
            data["results"] += _worker("conv_profile.py", ["--framework", "jax", "--part", "alternatives"], 900)
        if "flax_example" in sections:
            print("Flax example (30 epochs):", file=sys.stderr)
            data["results"] += _worker("trainer_bench.py", ["--what", "flax_example"], 3600)
        data["load_after"] = load_average()
        data["wall_s"] = round(time.perf_counter() - started, 1)
    text = render(data)
    print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=1))
    if args.markdown is not None:
        args.markdown.write_text(text)
    return 1 if any("error" in r for r in data["results"]) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
