"""XLA:CPU flag study: speed and correctness of each fusion flag set, per model family.

For every benchmark case (``--cases``, default the MLP, conv, ResNet and VQ VAEs) and every flag set
(``--configs``, default :data:`CONFIGS`) a **fresh process** is started with ``XLA_FLAGS`` set (the flags are read
once, when JAX creates its CPU backend). The worker measures:

- ``steps/s`` of the library's raw train step (``jax_bench.bench_library_step``: the trainer's jitted flat step,
  one step per dispatch, median of ``--repeats``);
- one step's loss and every parameter gradient on a fixed batch (fixed seed), saved to an ``.npz``;
- a short training curve: ``--curve-steps`` losses of the library step from the same initialisation and the same
  batches.

The driver then compares every flag set with the default configuration (no flags) of the same case:

- **loss**: ``|l - l0| / |l0| <= 1e-5``;
- **gradients**: for every parameter leaf, ``||g - g0|| / ||g0|| <= 1e-4``.
  Justification: a float32 sum of ``n`` terms evaluated in another order differs by at most ``~n u``
  (``u = 2**-24 ~ 6e-8``) in the worst case and ``~sqrt(n) u`` typically. The longest reductions of one step are
  the weight gradients of the first layers, sums over the batch and the spatial positions
  (``n = 128 * 14 * 14 ~ 2.5e4`` for the conv VAE, ``128 * 784 ~ 1e5`` for the MLP's input layer):
  ``sqrt(n) u <= 2e-5``. ``1e-4`` leaves a 5x margin over that and is still 10x below any real change
  (a changed formula or precision moves gradients by ``>= 1e-3``, e.g. bfloat16 products by ``~4e-3``).
- **curve**: the mean loss over the last quarter of the curve within 1% of the default's, and the largest per-step
  relative difference reported (SGD amplifies rounding differences, so step-by-step equality is not expected).

Prints one table per case (steps/s, speed-up over the default, the three checks) and the best correct flag set of
each case. ``--json`` keeps the raw numbers. Note the load: ``uptime`` is recorded with every worker, and
``--alternate N`` repeats the whole sweep N times in alternating order (medians are reported).

Example:
    $ python benchmarks/xla_flags.py --quick                          # 4 cases x the main flag sets, ~10 min
    $ python benchmarks/xla_flags.py --cases conv --configs default,ynn_all --alternate 3
    $ python benchmarks/xla_flags.py --list                           # the flag sets
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

_YNN = "--xla_cpu_experimental_ynn_fusion_type="
_XNN = "--xla_cpu_experimental_xnn_fusion_type="
_XNN_GRAPH = "--xla_cpu_experimental_xnn_graph_fusion_mode="
_ONEDNN = "--xla_cpu_experimental_onednn_fusion_type="

CONFIGS: dict[str, str] = {
    "default": "",
    "ynn_dot": _YNN + "dot",
    "ynn_eltwise": _YNN + "eltwise",
    "ynn_reduce": _YNN + "reduce",
    "ynn_dot_eltwise": _YNN + "dot,eltwise",
    "ynn_dot_reduce": _YNN + "dot,reduce",
    "ynn_eltwise_reduce": _YNN + "eltwise,reduce",
    "ynn_all": _YNN + "dot,eltwise,reduce",
    "ynn_conv": _YNN + "individual_convolution",
    "ynn_all_conv": _YNN + "dot,eltwise,reduce,individual_convolution",
    "ynn_individual_dot": _YNN + "individual_dot",
    "xnn_all": _XNN + "dot,eltwise,reduce",
    "xnn_graph_greedy": _XNN_GRAPH + "XNN_GRAPH_FUSION_MODE_GREEDY",
    "xnn_graph_slinky": _XNN_GRAPH + "XNN_GRAPH_FUSION_MODE_GREEDY_SLINKY",
    "onednn_dot_eltwise": _ONEDNN + "dot,eltwise",
    "onednn_on": "--xla_cpu_use_onednn=true",
}
"""The flag sets (name -> ``XLA_FLAGS``), the names found in the pinned jaxlib's flag table
(``strings jaxlib/libjax_common.so | grep -E 'ynn_fusion|xnn_graph_fusion|onednn_fusion'``): YNNPACK fusion types
``dot``, ``eltwise``, ``reduce``, ``individual_dot``, ``individual_convolution``; XNNPACK's; the XNNPACK graph
fusion modes; oneDNN's."""

QUICK_CONFIGS = ("default", "ynn_dot", "ynn_eltwise", "ynn_reduce", "ynn_dot_eltwise", "ynn_all", "ynn_all_conv",
                 "xnn_graph_greedy", "onednn_dot_eltwise")
"""The sweep of ``--quick``."""

LOSS_RTOL = 1e-5
GRAD_RTOL = 1e-4
CURVE_RTOL = 1e-2
STEPS = {"mlp": 200, "vq": 200, "conv": 20, "resnet": 10}
CURVE_STEPS = {"mlp": 468, "vq": 468, "conv": 60, "resnet": 40}
"""Timed steps per repeat and curve length per case (the MLPs: one MNIST epoch at batch 128)."""


# ---------------------------------------------------------------------------------------------------- worker
def _fixed_batch(spec_loss: str, batch_size: int) -> Any:
    import numpy as np

    from common import mnist_train_images

    x = mnist_train_images(batch_size).astype(np.float32)[..., None] / 255.0
    return (x > 0.5).astype(np.float32) if spec_loss == "bce" else x


def one_step_grads(case: str, batch_size: int) -> tuple[float, dict[str, Any]]:
    """Loss and parameter gradients of one step on a fixed batch, from the seed-0 model."""
    import jax
    import numpy as np
    from flax import nnx

    from jax_bench import build

    model, _ = build(case)
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    batch = jax.numpy.asarray(_fixed_batch(MODELS[case].loss, batch_size))

    @jax.jit
    def value_and_grad(p: Any, r: Any) -> Any:
        def loss_of(q: Any) -> Any:  # merged with a copy, as the trainer's step does (no state leaks out)
            return nnx.merge(graphdef, q, r, copy=True).loss_fn(batch=batch, step=0)["loss"]

        return jax.value_and_grad(loss_of)(p)

    loss, grads = value_and_grad(params, rest)
    flat = {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in jax.tree_util.tree_leaves_with_path(grads)}
    return float(loss), flat


def curve(case: str, n_steps: int, batch_size: int) -> list[float]:
    """Per-step losses of the library's train step over ``n_steps`` steps from the seed-0 model."""
    import jax
    import optax
    from flax import nnx

    from artifex_core.data import epoch_permutation, host_splits, put_split
    from artifex_core.training import StepSpec
    from artifex_core.training._steps import make_flat_train_step
    from artifex_plugins.data import load_mnist

    from jax_bench import build

    spec = MODELS[case]
    model, _ = build(case)
    binarize = "dynamic" if spec.loss == "bce" else "none"
    x_train, _ = host_splits(load_mnist(), binarize)
    split = put_split(x_train, None)
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(1e-3)
    leaves, treedef = jax.tree.flatten((params, rest, tx.init(params)))
    train = make_flat_train_step(graphdef, tx, StepSpec(batch_size, False, binarize == "dynamic"), treedef)
    key = jax.random.key(0)
    per_epoch = split.size // batch_size
    losses = []
    for i in range(n_steps):
        perm = epoch_permutation(key, i // per_epoch, split.size)
        leaves, metrics = train(leaves, split, perm, key, i, i % per_epoch, num_steps=1)
        losses.append(metrics["loss"])
    return [float(v.reshape(-1)[0]) for v in jax.device_get(losses)]


def worker(args: argparse.Namespace) -> None:
    """Measure one (case, flags) pair in this process (``XLA_FLAGS`` was set by the driver)."""
    import logging

    import numpy as np

    logging.getLogger("absl").setLevel(logging.ERROR)
    from jax_bench import bench_library_step

    loss, grads = one_step_grads(args.case, args.batch_size)
    np.savez(args.grads_out, **grads)
    losses = curve(args.case, args.curve_steps, args.batch_size) if args.curve_steps else []
    result = bench_library_step(args.case, 1, args.steps, args.repeats, args.batch_size)
    emit({
        "case": args.case, "config": args.config, "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "steps_per_s": result.steps_per_s, "steps_per_s_all": result.steps_per_s_all, "compile_s": result.compile_s,
        "one_step_loss": loss, "curve": losses,
    })


# ---------------------------------------------------------------------------------------------------- driver
def compare(base: dict[str, Any], base_grads: dict[str, Any], row: dict[str, Any], grads: dict[str, Any]) -> dict[str, Any]:
    """The correctness checks of ``row`` against the default configuration ``base``."""
    import numpy as np

    loss_rel = abs(row["one_step_loss"] - base["one_step_loss"]) / max(abs(base["one_step_loss"]), 1e-30)
    grad_rel = 0.0
    for name, g0 in base_grads.items():
        g0 = np.asarray(g0, np.float64)
        g = np.asarray(grads[name], np.float64)
        grad_rel = max(grad_rel, float(np.linalg.norm(g - g0) / max(np.linalg.norm(g0), 1e-30)))
    c0, c = np.asarray(base["curve"]), np.asarray(row["curve"])
    if len(c0) and len(c) == len(c0):
        tail = max(1, len(c0) // 4)
        curve_rel = float(abs(c[-tail:].mean() - c0[-tail:].mean()) / abs(c0[-tail:].mean()))
        curve_max = float(np.max(np.abs(c - c0) / np.abs(c0)))
    else:
        curve_rel = curve_max = float("nan")
    ok = loss_rel <= LOSS_RTOL and grad_rel <= GRAD_RTOL and (curve_rel != curve_rel or curve_rel <= CURVE_RTOL)
    return {"loss_rel": loss_rel, "grad_rel": grad_rel, "curve_tail_rel": curve_rel, "curve_max_rel": curve_max, "correct": ok}


def run_one(case: str, config: str, steps: int, repeats: int, curve_steps: int, batch: int, tmp: Path) -> dict[str, Any]:
    """One fresh worker process for ``(case, config)``; its result with the gradients' file and the load."""
    grads = tmp / f"{case}-{config}-{time.monotonic_ns()}.npz"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if CONFIGS[config]:
        env["XLA_FLAGS"] = CONFIGS[config]
    env["ARTIFEX_XLA_TUNING"] = "off"  # the library helper must not add flags of its own to the study's
    cmd = [sys.executable, str(Path(__file__)), "--worker", "--case", case, "--config", config, "--steps", str(steps),
           "--repeats", str(repeats), "--curve-steps", str(curve_steps), "--batch-size", str(batch), "--grads-out", str(grads)]
    load_before = load_average()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800)
    rows = parse_results(proc.stdout)
    if proc.returncode != 0 or not rows:
        tail = [ln for ln in proc.stderr.strip().splitlines() if "Error" in ln][-1:] or ["failed"]
        return {"case": case, "config": config, "error": tail[0], "load": load_before}
    row = rows[0]
    row.update(grads_file=str(grads), load=load_before, load_after=load_average()[0], wall_s=time.perf_counter() - t0)
    return row


def render(rows: list[dict[str, Any]]) -> str:
    """Markdown tables, one per case, with the medians over the alternating repeats."""
    import numpy as np

    out: list[str] = []
    for case in dict.fromkeys(r["case"] for r in rows):
        mine = [r for r in rows if r["case"] == case and "error" not in r]
        bases = [r for r in mine if r["config"] == "default"]
        errors = [r for r in rows if r["case"] == case and "error" in r]
        if not bases:
            out.append(f"{case}: no default run, no comparison\n")
            continue
        base = bases[0]
        base_grads = dict(np.load(base["grads_file"]))
        base_speed = statistics.median(r["steps_per_s"] for r in bases)
        out.append(f"### {MODELS[case].label}\n")
        out.append("| flags | steps/s (median) | runs | vs default | loss rel. | max grad rel. | curve tail rel. | curve max rel. | correct | load |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        best = ("default", base_speed)
        for config in dict.fromkeys(r["config"] for r in mine):
            runs = [r for r in mine if r["config"] == config]
            speed = statistics.median(r["steps_per_s"] for r in runs)
            checks = [compare(base, base_grads, r, dict(np.load(r["grads_file"]))) for r in runs]
            worst = {k: max(c[k] for c in checks) for k in ("loss_rel", "grad_rel", "curve_tail_rel", "curve_max_rel")}
            correct = all(c["correct"] for c in checks)
            if correct and speed > best[1]:
                best = (config, speed)
            loads = ", ".join(f"{r['load']:.1f}" for r in runs)
            flags = f"`{CONFIGS[config]}`" if CONFIGS[config] else "(none)"
            out.append(
                f"| {config}: {flags} | {speed:.1f} | {len(runs)} | {speed / base_speed:.2f}x | {worst['loss_rel']:.1e} | "
                f"{worst['grad_rel']:.1e} | {worst['curve_tail_rel']:.1e} | {worst['curve_max_rel']:.1e} | "
                f"{'yes' if correct else '**no**'} | {loads} |"
            )
        for r in errors:
            out.append(f"| {r['config']} | failed: {r['error'][:80]} | | | | | | | | |")
        out.append(f"\nFastest correct set for {case}: **{best[0]}** ({best[1]:.1f} steps/s, "
                   f"{best[1] / base_speed:.2f}x the default)\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the study (or, with ``--worker``, one measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="mlp,conv,resnet,vq", help="comma-separated benchmark cases")
    parser.add_argument("--configs", default=None, help=f"comma-separated flag sets (default all {len(CONFIGS)})")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_CONFIGS)}; fewer repeats, short curves")
    parser.add_argument("--alternate", type=int, default=1, help="sweeps, in alternating order (medians reported)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--curve-steps", type=int, default=None, help="length of the training curve (default per case)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--json", type=Path, default=None, help="write the raw rows here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables here")
    parser.add_argument("--list", action="store_true", help="print the flag sets and exit")
    parser.add_argument("--from-json", type=Path, default=None, help="only render the tables of a saved --json file")
    # worker-only
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", default="mlp", help=argparse.SUPPRESS)
    parser.add_argument("--config", default="default", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--grads-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        for name, flags in CONFIGS.items():
            print(f"{name:20s} {flags or '(no flags)'}")
        return 0
    if args.from_json is not None:
        print(render(json.loads(args.from_json.read_text())))
        return 0
    if args.worker:
        args.steps = args.steps or STEPS.get(args.case, 50)
        args.repeats = args.repeats or 3
        args.curve_steps = CURVE_STEPS.get(args.case, 50) if args.curve_steps is None else args.curve_steps
        worker(args)
        return 0
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    configs = [c.strip() for c in args.configs.split(",")] if args.configs else list(QUICK_CONFIGS if args.quick else CONFIGS)
    unknown = [c for c in cases if c not in MODELS] + [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown case/config {', '.join(unknown)}; cases {', '.join(MODELS)}; configs {', '.join(CONFIGS)}")
    if "default" not in configs:
        configs.insert(0, "default")
    repeats = args.repeats or (2 if args.quick else 3)
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="xla-flags-"))
    for sweep in range(args.alternate):
        order = configs if sweep % 2 == 0 else configs[::-1]
        for case in cases:
            curve_steps = args.curve_steps if args.curve_steps is not None else (
                CURVE_STEPS[case] // (4 if args.quick else 1) if sweep == 0 else 0)
            for config in order:
                steps = STEPS.get(case, 50) // (2 if args.quick else 1)
                row = run_one(case, config, steps, repeats, curve_steps if sweep == 0 else 0, args.batch_size, tmp)
                if sweep > 0 and "error" not in row:  # later sweeps time only; the checks use the first sweep's
                    first = next((r for r in rows if r["case"] == case and r["config"] == config and "error" not in r), None)
                    if first is not None:
                        row.update(one_step_loss=first["one_step_loss"], curve=first["curve"], grads_file=first["grads_file"])
                rows.append(row)
                if args.json:  # kept as it goes: an interrupted sweep keeps what it measured
                    args.json.write_text(json.dumps(rows, indent=1))
                status = row.get("error") or f"{row['steps_per_s']:.1f} steps/s"
                print(f"  {case:7s} {config:20s} {status}  (load {row['load']:.2f})", file=sys.stderr, flush=True)
    text = render(rows)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
