"""``artifex train`` as users run it, side by side with PyTorch on the same model, loss and batch.

For each case (``mlp``: the MLP VAE 784-512-256-32; ``conv``: the conv VAE, CNN 32-64, latent 32) and each of
``--repeats`` rounds, in alternating order (artifex first in even rounds, PyTorch first in odd ones), each in a
fresh process:

- ``artifex train`` with the case's model, batch 128, Adam 1e-3 (constant), dynamic binarization, the default
  everything else (test evaluation, checkpoints, pictures, the automatic XLA flags): examples/s **after epoch 1**
  from its ``metrics.jsonl`` (``examples_per_s``: the training loop; and the whole epoch as the user waits for
  it, evaluation and checkpoint included, from the ``elapsed_s`` differences);
- the library's raw step (``jax_bench.py --variants step``, with the same automatic flags) and, for the MLP,
  XLA's matmul-only limit;
- PyTorch eager, eager with fused Adam and ``torch.compile`` (``torch_reference.py``); for the conv VAE also the
  ``ConvTranspose2d`` decoder PyTorch users write, eager and compiled.

Each variant's number is the median over the rounds; the ratios are ratios of those medians. The machine's
1-minute load is recorded with every process. Prints Markdown (and one ``BENCH_RESULT`` line for ``run.py``).

Example:
    $ python benchmarks/train_side_by_side.py --quick           # 2 rounds, 3 epochs, conv on 10k images
    $ python benchmarks/train_side_by_side.py --repeats 3 --json side.json
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import MODELS, ROOT, emit, load_average, parse_results  # noqa: E402

PY = sys.executable
BATCH = 128
TORCH_VARIANTS = ("eager", "fused", "compile")


def _env() -> dict[str, str]:
    return {**os.environ, "ARTIFEX_DISABLE_PLUGINS": os.environ.get("ARTIFEX_DISABLE_PLUGINS", "artifex-brokenplugin")}


def artifex_train(case: str, epochs: int, limit: int | None) -> dict[str, Any]:
    """One ``artifex train`` of ``case``; examples/s after epoch 1 from its run folder."""
    config = {
        **MODELS[case].model_config(),
        "train": {"dataset": "mnist", "epochs": epochs, "batch_size": BATCH, "optimizer": "adam", "lr": 1e-3,
                  "schedule": "constant", "binarize": "dynamic", "seed": 0},
    }
    load = load_average()[0]
    with tempfile.TemporaryDirectory(prefix="artifex-side-") as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(config))
        run_dir = Path(tmp) / "run"
        cmd = [PY, "-m", "artifex_core.cli", "train", "--config", str(cfg), "--out", str(run_dir), "--quiet"]
        if limit:
            cmd += ["--limit", str(limit)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=3600)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"], "case": case, "framework": "artifex"}
        recs = [json.loads(ln) for ln in (run_dir / "metrics.jsonl").read_text().splitlines() if ln.strip()]
        xla = json.loads((run_dir / "config.json").read_text()).get("xla", {})
    later = recs[1:] or recs
    steps = [r["step"] - (recs[i - 1]["step"] if i else 0) for i, r in enumerate(recs)]
    # epoch i's whole time is the elapsed_s step from epoch i-1: it holds epoch i-1's end (pictures, checkpoint)
    # and epoch i's loop and evaluation. The first step also holds the one-time compile of the picture
    # function at epoch 1's end, so it is left out when a later step exists.
    first = 2 if len(recs) > 2 else 1
    whole = [steps[i] * BATCH / (recs[i]["elapsed_s"] - recs[i - 1]["elapsed_s"]) for i in range(first, len(recs))]
    return {
        "framework": "artifex", "variant": "train", "case": case,
        "examples_per_s": statistics.median(r["examples_per_s"] for r in later),
        "whole_epoch_examples_per_s": statistics.median(whole) if whole else None,
        "eval_s": statistics.median(r["eval_time_s"] for r in later),
        "epoch_s": statistics.median(r["epoch_time_s"] for r in later),
        "wall_s": wall, "xla": xla, "load": load,
    }


def _worker(script: str, args: list[str], flags_case: str | None = None) -> list[dict[str, Any]]:
    env = _env()
    if flags_case is not None and "XLA_FLAGS" not in os.environ:  # the flags `artifex train` picks for the case
        from artifex_core import xla_flags_for

        flags = xla_flags_for(MODELS[flags_case].model_config())[0]
        if flags:
            env["XLA_FLAGS"] = " ".join(flags)
    load = load_average()[0]
    proc = subprocess.run([PY, str(HERE / script), *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=3600)
    rows = parse_results(proc.stdout)
    for r in rows:
        r["load"] = load
        r["examples_per_s"] = r.get("examples_per_s") or r.get("steps_per_s", 0) * BATCH
    if proc.returncode != 0 and not rows:
        rows = [{"error": (proc.stderr.strip().splitlines() or ["failed"])[-1], "script": script, "args": args}]
    return rows


def round_jobs(case: str, quick: bool, torch_ok: bool) -> list[tuple[str, Any]]:
    """The processes of one round for ``case``: (label, thunk)."""
    steps = "100" if case == "mlp" else "20"
    reps = "3"
    jobs: list[tuple[str, Any]] = []
    raw = "matmul_limit,step" if case == "mlp" else "step"
    jobs.append(("raw", lambda: _worker("jax_bench.py", ["--case", case, "--variants", raw, "--steps", steps, "--repeats", reps], case)))
    if torch_ok:
        jobs.append(("torch", lambda: _worker("torch_reference.py", ["--case", case, "--variants", ",".join(TORCH_VARIANTS), "--steps", steps, "--repeats", reps])))
        if case == "conv":
            jobs.append(("torch", lambda: _worker("torch_reference.py", ["--case", "conv_transpose", "--variants", "eager" if quick else "eager,compile", "--steps", steps, "--repeats", reps])))
    return jobs


def _key(r: dict[str, Any]) -> tuple[str, str, str]:
    return (r.get("framework", "?"), r.get("variant", "?"), r.get("case", "?"))


LABELS = {
    ("artifex", "train"): "**`artifex train`** (examples/s after epoch 1, training loop)",
    ("jax", "step"): "artifex raw step (`jax_bench.py --variants step`, same flags)",
    ("jax", "matmul_limit"): "XLA:CPU matmul-only limit of the MLP step",
    ("torch", "eager"): "PyTorch eager",
    ("torch", "fused"): "PyTorch eager, fused Adam",
    ("torch", "compile"): "PyTorch `torch.compile` + compiled Adam",
}


def render(rows: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The Markdown table per case and the targets; also the summary numbers."""
    out: list[str] = []
    summary: dict[str, Any] = {}
    for case in dict.fromkeys(r["case"] for r in rows if "case" in r and r["case"] != "conv_transpose"):
        mine = [r for r in rows if "error" not in r and r.get("case") in (case, "conv_transpose" if case == "conv" else case)]
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in mine:
            groups.setdefault(_key(r), []).append(r)
        med = {k: statistics.median(r["examples_per_s"] for r in v) for k, v in groups.items()}
        train = med.get(("artifex", "train", case))
        torch_keys = [k for k in med if k[0] == "torch"]
        best = max(torch_keys, key=lambda k: med[k]) if torch_keys else None
        out += [f"### {MODELS[case].label}, batch {BATCH}", "",
                "| run | examples/s (median) | runs | `artifex train` ÷ this | load (1 min) |", "|---|---|---|---|---|"]
        for k in sorted(med, key=lambda k: -med[k]):
            label = LABELS.get(k[:2], f"{k[0]} {k[1]}")
            if k[2] == "conv_transpose":
                label += ", `ConvTranspose2d` decoder"
            ratio = f"{train / med[k]:.2f}×" if train else "—"
            loads = ", ".join(f"{r['load']:.1f}" for r in groups[k])
            out.append(f"| {label} | {med[k]:,.0f} | {len(groups[k])} | {ratio} | {loads} |")
        whole = [r["whole_epoch_examples_per_s"] for r in groups.get(("artifex", "train", case), []) if r.get("whole_epoch_examples_per_s")]
        raw = med.get(("jax", "step", case))
        limit = med.get(("jax", "matmul_limit", case))
        s = {"train": train, "whole_epoch": statistics.median(whole) if whole else None, "raw_step": raw, "limit": limit,
             "best_torch": med[best] if best else None, "best_torch_variant": best}
        summary[case] = s
        if s["whole_epoch"]:
            out.append(f"| `artifex train`, whole epochs (evaluation, checkpoint, pictures included) | {s['whole_epoch']:,.0f} | "
                       f"{len(whole)} | | |")
        xla = next((r.get("xla") for r in groups.get(("artifex", "train", case), [])), None)
        if xla:
            out.append(f"\nXLA flags of `artifex train` ({xla.get('mode')}): `{' '.join(xla.get('flags', [])) or '(none)'}`")
        out.append("")
    out += ["#### Targets", "", "| target | measured | hit |", "|---|---|---|"]

    def target(name: str, value: float | None, goal: float, fmt: str) -> None:
        shown = "—" if value is None else fmt.format(value)
        hit = "—" if value is None else ("yes" if value >= goal else "**no**")
        out.append(f"| {name} | {shown} | {hit} |")

    mlp, conv = summary.get("mlp", {}), summary.get("conv", {})
    ratio = lambda a, b: a / b if a and b else None  # noqa: E731
    target("MLP: `artifex train` ≥ 1.3× the best PyTorch variant", ratio(mlp.get("train"), mlp.get("best_torch")), 1.3, "{:.2f}×")
    target("MLP: the step ≥ 85% of XLA's matmul limit", ratio(mlp.get("raw_step"), mlp.get("limit")), 0.85, "{:.0%}")
    target("MLP: `artifex train` loop ≥ 85% of the matmul limit", ratio(mlp.get("train"), mlp.get("limit")), 0.85, "{:.0%}")
    target("conv: `artifex train` ≥ 1.2× the best PyTorch variant (ConvTranspose2d, compile included)",
           ratio(conv.get("train"), conv.get("best_torch")), 1.2, "{:.2f}×")
    for case, s in summary.items():
        target(f"{case}: trainer loop ≥ 95% of the raw step", ratio(s.get("train"), s.get("raw_step")), 0.95, "{:.0%}")
        target(f"{case}: whole epochs (eval + checkpoint) ≥ 95% of the raw step", ratio(s.get("whole_epoch"), s.get("raw_step")), 0.95, "{:.0%}")
    out.append("")
    return "\n".join(out), summary


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the tables."""
    import importlib.util

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="mlp,conv")
    parser.add_argument("--repeats", type=int, default=3, help="rounds, alternating the order")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each artifex train (>= 2)")
    parser.add_argument("--conv-limit", type=int, default=20000, help="training images of the conv runs (--limit)")
    parser.add_argument("--quick", action="store_true", help="2 rounds, 3 epochs, conv on 10k images, no compiled ConvTranspose2d")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.conv_limit = 2, 3, 10000
    torch_ok = not args.no_torch and importlib.util.find_spec("torch") is not None
    rows: list[dict[str, Any]] = []
    for rnd in range(args.repeats):
        for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
            limit = args.conv_limit if case != "mlp" else None
            jobs = [("train", lambda case=case, limit=limit: [artifex_train(case, args.epochs, limit)])]
            jobs += round_jobs(case, args.quick, torch_ok)
            if rnd % 2:
                jobs.reverse()
            for label, job in jobs:
                got = job()
                rows += got
                shown = ", ".join(f"{r.get('variant', '?')} {r.get('examples_per_s', 0):,.0f}" if "error" not in r else f"ERROR {r['error']}" for r in got)
                print(f"  round {rnd + 1} {case:5s} {label:6s} {shown}  (load {load_average()[0]:.2f})", file=sys.stderr, flush=True)
    text, summary = render(rows)
    print(text)
    emit({"kind": "train_side_by_side", "markdown": text, "summary": summary, "rows": rows})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
