"""Render the benchmark results (the dict :mod:`run` collects) as Markdown tables with ratios and targets.

Example:
    >>> print(render({"results": []}).splitlines()[0])
    # artifex benchmark
"""

from __future__ import annotations

from typing import Any

PHASES = ("imported", "built", "ready", "first_step")
LIBRARY_VARIANTS = ("step", "scan")  # artifex's own train step (scanK included)
LABELS = {
    ("jax", "nnx_jit"): "JAX, obvious `nnx.jit` loop",
    ("jax", "step"): "**artifex** step: `jax.jit`, split state, donated, 1 step/dispatch",
    ("jax", "matmul_limit"): "XLA:CPU matmul-only limit (the step's matmuls, nothing else)",
    ("torch", "eager"): "PyTorch eager",
    ("torch", "fused"): "PyTorch eager, fused Adam",
    ("torch", "compile"): "PyTorch `torch.compile` + compiled Adam step",
}
CASES = {
    "mlp": "MLP VAE 784-512-256-32, Bernoulli, dynamic binarization",
    "conv": "conv VAE: CNN encoder (2 stride-2 convs 32-64) / CNN decoder (sub-pixel 64-32), Bernoulli",
    "vq": "VQ-VAE 784-512-256-64, K=128 codes of 16, Gaussian (the `artifex train --model vqvae` recipe)",
}


def _label(r: dict[str, Any]) -> str:
    variant = r["variant"]
    if r["framework"] == "jax" and variant.startswith("scan"):
        return f"**artifex** step, `lax.scan` {variant[4:]} steps/dispatch"
    if r["case"] == "conv_transpose":
        return "PyTorch eager, `ConvTranspose2d` decoder instead (the issue's model)"
    return LABELS.get((r["framework"], variant), f"{r['framework']} {variant}")


def _is_library(r: dict[str, Any]) -> bool:
    return r.get("framework") == "jax" and r.get("variant", "").startswith(LIBRARY_VARIANTS)


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def _best(rows: list[dict[str, Any]], pred: Any) -> dict[str, Any] | None:
    chosen = [r for r in rows if pred(r)]
    return max(chosen, key=lambda r: r["steps_per_s"]) if chosen else None


def _throughput(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    lines: list[str] = []
    summary: dict[str, Any] = {}
    rows_all = [r for r in results if "variant" in r]
    for case, title in CASES.items():
        rows = [r for r in rows_all if r["case"] == case or (case == "conv" and r["case"] == "conv_transpose")]
        if not rows:
            continue
        step = next((r for r in rows if r["framework"] == "jax" and r["variant"] == "step"), None)
        flops = step.get("gflop_per_step") if step else None
        torch_rows = [r for r in rows if r["framework"] == "torch" and r["case"] == case]
        best_torch = _best(torch_rows, lambda r: True)
        eager = next((r for r in torch_rows if r["variant"] == "eager"), None)
        lines += [f"### {title}", ""]
        if flops:
            lines += [f"{flops:.3f} GFLOP per training step (XLA cost analysis of artifex's step), batch 128.", ""]
        lines += [
            "| setup | steps/s | min–max | examples/s | GFLOP/s | compile s | peak RSS MB | × best PyTorch | × PyTorch eager |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        order = {"jax": 0, "torch": 1}
        for r in sorted(rows, key=lambda r: (order.get(r["framework"], 2), r["case"] != case, -r["steps_per_s"])):
            lo, hi = (min(r["steps_per_s_all"]), max(r["steps_per_s_all"])) if r.get("steps_per_s_all") else (None, None)
            gflops = r["steps_per_s"] * flops if flops and r["variant"] != "matmul_limit" else (
                r.get("extra", {}).get("matmul_gflop_per_s"))
            vs_best = r["steps_per_s"] / best_torch["steps_per_s"] if best_torch else None
            vs_eager = r["steps_per_s"] / eager["steps_per_s"] if eager else None
            lines.append(
                f"| {_label(r)} | {_fmt(r['steps_per_s'])} | {_fmt(lo, 0)}–{_fmt(hi, 0)} | {_fmt(r['steps_per_s'] * r['batch_size'], 0)} "
                f"| {_fmt(gflops, 0)} | {_fmt(r.get('compile_s'), 2)} | {_fmt(r.get('peak_rss_mb'), 0)} "
                f"| {_fmt(vs_best, 2)} | {_fmt(vs_eager, 2)} |"
            )
        lines.append("")
        summary[case] = {
            "library": _best(rows, lambda r: _is_library(r) and r["case"] == case),
            "best_torch": best_torch,
            "eager": eager,
            "limit": next((r for r in rows if r["variant"] == "matmul_limit"), None),
            "transpose_eager": next((r for r in rows if r["case"] == "conv_transpose"), None),
            "jax_rss": next((r.get("peak_rss_mb") for r in rows if r["framework"] == "jax" and r["variant"].startswith("scan")), None),
        }
    return lines, summary


def _startup(res: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "artifex" in res or "torch" in res:
        lines += [
            "### Time to the first training step (MLP VAE, MNIST, batch 128)",
            "",
            "Measured from spawning the process; `artifex train` is the real command (the default MLP VAE), stopped",
            "once the first step's metrics are back on the host. PyTorch: the same model, eager.",
            "",
            "| run | trainer imported (JAX, Flax, Orbax) s | data loaded, model built s | state on device s | first step done s |",
            "|---|---|---|---|---|",
        ]
        a = res.get("artifex", {})
        for key, name in (("cold", "`artifex train`, empty cache folder"), ("warm", "`artifex train`, warm compilation cache"),
                          ("no_compile_cache", "`artifex train --no-compile-cache` (data cache warm)")):
            if key in a:
                r = a[key]
                lines.append(f"| {name} | " + " | ".join(_fmt(r.get(k), 2) for k in PHASES) + " |")
        if "torch" in res:
            t = res["torch"]
            lines.append("| PyTorch eager (torch imported / built / Adam created / first step) | "
                         + " | ".join(_fmt(t.get(k), 2) for k in PHASES) + " |")
        lines.append("")
    if "cli" in res:
        c = res["cli"]
        lines += [
            "### CLI latency (median wall time of a fresh process)",
            "",
            "| command | s |",
            "|---|---|",
            f"| `python -c pass` | {_fmt(c['python_startup'], 3)} |",
            f"| `artifex list` | {_fmt(c['artifex_list'], 3)} |",
            f"| `artifex --help` | {_fmt(c['artifex_help'], 3)} |",
            f"| `python -c \"import flax.nnx\"` | {_fmt(c['import_flax_nnx'], 3)} |",
            "",
            f"`artifex list` / `import flax.nnx` = **{c['ratio']:.2f}**; `artifex list` imported JAX: "
            f"{_fmt(c['list_imports_jax'])}, Flax: {_fmt(c['list_imports_flax'])}.",
            "",
        ]
    return lines


def _target(name: str, measured: str, ok: bool | None) -> str:
    return f"| {name} | {measured} | {'**hit**' if ok else ('not measured' if ok is None else '**missed**')} |"


def render(data: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    results = [r for r in data.get("results", []) if "error" not in r]
    lines = ["# artifex benchmark", ""]
    if "date" in data:
        m, v = data["machine"], data["versions"]
        lines += [
            f"- date: {data['date']}{' (quick run)' if data.get('quick') else ''}",
            f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['platform']}",
            f"- versions: Python {m['python']}, " + ", ".join(f"{k} {val}" for k, val in v.items()),
            f"- load average before / after: {data['load_before'][0]:.2f} / {data.get('load_after', [0])[0]:.2f}; "
            f"suite wall time {data.get('wall_s', 0):.0f} s",
            f"- environment of every worker: {' '.join(f'{k}={v}' for k, v in data.get('worker_env', {}).items()) or 'unchanged'}",
            "",
        ]
    for err in (r for r in data.get("results", []) if "error" in r):
        lines.append(f"> failed: `{err.get('cmd', '')}`: {err['error']}")
    lines += ["## Training throughput", ""]
    tp_lines, summary = _throughput(results)
    lines += tp_lines
    startup = next((r for r in results if r.get("kind") == "startup"), {})
    if startup:
        lines += ["## Start-up", ""] + _startup(startup)
    trainer = next((r for r in results if r.get("kind") == "trainer"), None)
    mlp = summary.get("mlp", {})
    raw = mlp.get("library")
    if trainer:
        lines += [
            "## The trainer as the user runs it",
            "",
            f"`artifex train --epochs {trainer['epochs']} --batch-size {trainer['batch_size']}` (default MLP VAE), "
            f"steady state = median over epochs 2..{trainer['epochs']}.",
            "",
            "| measure | steps/s | × raw step |",
            "|---|---|---|",
        ]
        base = raw["steps_per_s"] if raw else None
        lines.append(f"| raw step (best artifex variant above: {raw['variant'] if raw else '—'}) | {_fmt(base)} | 1.00 |")
        for key, name in (("loop_steps_per_s", "trainer, training loop (`epoch_time_s`)"),
                          ("epoch_steps_per_s", "trainer, whole epoch incl. test evaluation and checkpoint")):
            lines.append(f"| {name} | {_fmt(trainer[key])} | {_fmt(trainer[key] / base if base else None, 2)} |")
        lines += ["", f"First epoch (compilation included): {trainer['first_epoch_s']:.1f} s; test evaluation "
                  f"{trainer['eval_s']:.2f} s per epoch; final test −ELBO {trainer['final_test_loss']:.2f}.", ""]
    flax = next((r for r in results if r.get("kind") == "flax_example"), None)
    if flax:
        lines += [
            "## Flax's VAE example configuration (784-500-20, Adam 1e-3, batch 128, dynamic binarization)",
            "",
            "| epochs | `artifex train` command s | fit s (incl. eval, checkpoints) | training loop s | final test −ELBO | best |",
            "|---|---|---|---|---|---|",
            f"| {flax['epochs']} | {flax['command_wall_s']:.1f} | {flax['fit_s']:.1f} | {flax['train_loop_s']:.1f} "
            f"| {flax['final_test_neg_elbo']:.2f} | {flax['best_test_neg_elbo']:.2f} |",
            "",
        ]
    side = next((r for r in results if r.get("kind") == "train_side_by_side"), None)
    if side:
        lines += ["## `artifex train` side by side with PyTorch (issue 14)", "", side["markdown"], ""]
    lines += _conv_profile(results)
    lines += _targets(summary, startup, trainer, flax)
    return "\n".join(lines)


def _conv_profile(results: list[dict[str, Any]]) -> list[str]:
    layers = {r["framework"]: r["results"] for r in results if r.get("kind") == "conv_layers"}
    alts = next((r["results"] for r in results if r.get("kind") == "conv_alternatives"), None)
    if not layers and not alts:
        return []
    lines = ["## Conv VAE on XLA:CPU: where the time goes", ""]
    if layers:
        fws = [f for f in ("jax", "torch") if f in layers]
        head = " | ".join(f"{'XLA' if f == 'jax' else 'PyTorch'} {p} ms (GFLOP/s)" for f in fws for p in ("fwd", "dx", "dW"))
        lines += [f"| convolution, batch 128 | GFLOP | {head} |", "|---" * (2 + 3 * len(fws)) + "|"]
        for i, row in enumerate(layers[fws[0]]):
            cells = []
            for f in fws:
                r = layers[f][i]
                cells += [f"{r[p]:.1f} ({r['gflop'] / r[p] * 1e3:.0f})" for p in ("fwd", "dx", "dW")]
            lines.append(f"| {row['layer']} | {row['gflop']:.2f} | " + " | ".join(cells) + " |")
        lines.append("")
    if alts:
        base = next((a["steps_per_s"] for a in alts if a["impl"] == "xla"), None)
        lines += ["Whole conv-VAE training steps (the library's step), convolutions computed three ways, interleaved:", "",
                  "| convolution | steps/s | × XLA | page faults per step |", "|---|---|---|---|"]
        names = {"xla": "XLA `conv_general_dilated` (kept)", "im2col": "patches + one matmul (im2col)",
                 "dw_matmul": "XLA conv, kernel gradient as one matmul per kernel tap"}
        for a in alts:
            lines.append(f"| {names.get(a['impl'], a['impl'])} | {a['steps_per_s']:.2f} | "
                         f"{_fmt(a['steps_per_s'] / base if base else None, 2)} | {a['page_faults_per_step']:.0f} |")
        lines.append("")
    return lines


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    return a["steps_per_s"] / b["steps_per_s"] if a and b else None


def _targets(summary: dict[str, Any], startup: dict[str, Any], trainer: Any, flax: Any) -> list[str]:
    mlp, conv = summary.get("mlp", {}), summary.get("conv", {})
    lines = ["## Targets (issue 5)", "", "| target | measured | |", "|---|---|---|"]
    r = _ratio(mlp.get("library"), mlp.get("best_torch"))
    lines.append(_target("MLP VAE steps/s ≥ 1.2× best PyTorch", f"{_fmt(r, 2)}×", None if r is None else r >= 1.2))
    r = _ratio(mlp.get("library"), mlp.get("limit"))
    lines.append(_target("MLP VAE ≥ 85% of the XLA matmul limit", f"{_fmt(r and 100 * r, 0)}%", None if r is None else r >= 0.85))
    r = _ratio(conv.get("library"), conv.get("eager"))
    rt = _ratio(conv.get("library"), conv.get("transpose_eager"))
    lines.append(_target("conv VAE ≥ 1.0× PyTorch eager", f"{_fmt(r, 2)}× (vs its ConvTranspose2d model: {_fmt(rt, 2)}×)",
                         None if r is None else r >= 1.0))
    warm = startup.get("artifex", {}).get("warm", {}).get("first_step")
    torch_first = startup.get("torch", {}).get("first_step")
    ok = None if warm is None else warm <= (torch_first if torch_first is not None else 1.7)
    lines.append(_target("`artifex train` to first step (warm cache) ≤ PyTorch",
                         f"{_fmt(warm, 2)} s vs {_fmt(torch_first, 2)} s", ok))
    if trainer and mlp.get("library"):
        r = trainer["epoch_steps_per_s"] / mlp["library"]["steps_per_s"]
        r_loop = trainer["loop_steps_per_s"] / mlp["library"]["steps_per_s"]
        lines.append(_target("trainer steady state ≥ 90% of the raw step",
                             f"{100 * r_loop:.0f}% (loop), {100 * r:.0f}% (whole epochs)", r_loop >= 0.9))
    else:
        lines.append(_target("trainer steady state ≥ 90% of the raw step", "—", None))
    if flax:
        lines.append(_target("Flax example: 30 epochs ≤ 60 s", f"{flax['fit_s']:.1f} s fit, {flax['command_wall_s']:.1f} s command",
                             flax["fit_s"] <= 60))
        lines.append(_target("Flax example: final −ELBO ≤ 99.5", f"{flax['final_test_neg_elbo']:.2f}", flax["final_test_neg_elbo"] <= 99.5))
    else:
        lines.append(_target("Flax example: 30 epochs ≤ 60 s, −ELBO ≤ 99.5", "run with --flax-example", None))
    cli = startup.get("cli")
    lines.append(_target("`artifex list` ≤ 0.35 × `import flax.nnx`", f"{_fmt(cli and cli['ratio'], 2)}×",
                         None if not cli else cli["ratio"] <= 0.35 and not cli["list_imports_jax"]))
    rss = mlp.get("jax_rss")
    lines.append(_target("peak memory of the MLP benchmark ≤ 1.5 GB", f"{_fmt(rss, 0)} MB", None if not rss else rss <= 1536))
    lines.append("")
    return lines
