"""Start-up costs: time to the first training step (``artifex train`` vs PyTorch) and CLI latency.

- ``first_step_artifex``: runs the real ``artifex train`` (the default MLP VAE on MNIST) in a fresh process and
  stops it right after the first optimizer step's metrics came back from the device (``log_every=1``). The
  cache folder (``ARTIFEX_CACHE_DIR``: the XLA compilation cache and the decoded-MNIST cache) starts empty
  for the cold run and is reused for the warm runs. Phases, from spawning the process: ``imported`` (the
  trainer module, hence JAX, Flax, Orbax), ``built`` (data loaded, model built), ``ready`` (data and state on
  the device, optimizer initialised), ``first_step`` (compiled, or loaded from the cache, and run).
- ``first_step_torch``: the same model in PyTorch eager: import, load MNIST and build, Adam, one step.
- ``cli_latency``: wall time of ``artifex list`` (and ``--help``) against ``python -c "import flax.nnx"``,
  plus a check that ``artifex list`` imported no JAX or Flax.

Every time is measured by the parent from just before the child process is spawned.

Example:
    $ python benchmarks/startup.py --repeats 3
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

from common import ROOT, emit  # noqa: E402

PY = sys.executable
MARK = "FIRST_STEP_TIMES "
PHASES = ("imported", "built", "ready", "first_step")

_ARTIFEX_CHILD = r"""
import importlib.abc, importlib.util, json, os, sys, time
marks = {}

def _patch(module):
    marks["imported"] = time.time()

    class Probe(module.Callback):
        def on_fit_start(self, trainer, start_epoch):
            marks["ready"] = time.time()

        def on_log(self, trainer, step, metrics):
            marks["first_step"] = time.time()
            marks["loss"] = metrics.get("loss")
            print("FIRST_STEP_TIMES " + json.dumps(marks), flush=True)
            os._exit(0)

    init = module.Trainer.__init__

    def __init__(self, *args, **kwargs):
        marks["built"] = time.time()
        init(self, *args, **kwargs)
        self.callbacks.insert(0, Probe())

    module.Trainer.__init__ = __init__

class _Hook(importlib.abc.MetaPathFinder):
    # patch the trainer right after `artifex train` imports it (importing it here would move JAX's import)
    def find_spec(self, name, path, target=None):
        if name != "artifex_core.training._trainer":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Hook())
from artifex_core import datasets
if "mnist" not in datasets:  # older checkouts: the built-in plugin did not register datasets yet
    datasets.register("mnist", "artifex_plugins.data._mnist:load_mnist")
from artifex_core.cli import main
sys.argv = ["artifex", "train", "--out", sys.argv[1], "--set", "log_every=1", "--epochs", "1", "--batch-size", "128"]
main()
"""

_TORCH_CHILD = r"""
import json, sys, time
marks = {}
sys.path.insert(0, sys.argv[1])
import torch
marks["imported"] = time.time()
from common import mnist_train_images
data = torch.from_numpy(mnist_train_images().reshape(-1, 784).copy())
import torch_reference as tr
torch.manual_seed(0)
model, loss_fn, _ = tr.make_model("mlp")
marks["built"] = time.time()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
marks["ready"] = time.time()
idx = torch.randperm(data.shape[0])[:128]
x = torch.bernoulli(data[idx].float() / 255.0)
opt.zero_grad()
loss = loss_fn(model, x)
loss.backward()
opt.step()
marks["loss"] = float(loss)
marks["first_step"] = time.time()
print("FIRST_STEP_TIMES " + json.dumps(marks), flush=True)
"""


def _run_child(code: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    t0 = time.time()
    proc = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"child failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    marks = json.loads(line[len(MARK) :])
    out = {k: round(v - t0, 3) for k, v in marks.items() if k in PHASES}
    out["loss"] = marks.get("loss")
    return out


def first_step_artifex(repeats: int) -> dict[str, Any]:
    """Cold (empty cache folder) and warm time to the first step of ``artifex train``."""
    with tempfile.TemporaryDirectory(prefix="artifex-bench-cache-") as cache:
        env = {**os.environ, "ARTIFEX_CACHE_DIR": cache}
        env.pop("ARTIFEX_NO_COMPILE_CACHE", None)
        runs = []
        for i in range(repeats + 1):
            with tempfile.TemporaryDirectory(prefix="artifex-bench-run-") as out:
                runs.append(_run_child(_ARTIFEX_CHILD, [str(Path(out) / "run")], env))
        nocache_env = {**env, "ARTIFEX_NO_COMPILE_CACHE": "1"}
        with tempfile.TemporaryDirectory(prefix="artifex-bench-run-") as out:
            no_cache = _run_child(_ARTIFEX_CHILD, [str(Path(out) / "run")], nocache_env)
    warm = runs[1:]
    return {
        "cold": runs[0],
        "warm": {k: statistics.median(r[k] for r in warm) for k in PHASES},
        "warm_all": [r["first_step"] for r in warm],
        "no_compile_cache": no_cache,
    }


def first_step_torch(repeats: int) -> dict[str, Any]:
    """PyTorch eager time to the first step (median of ``repeats`` runs, after one discarded run)."""
    here = str(Path(__file__).resolve().parent)
    runs = [_run_child(_TORCH_CHILD, [here], dict(os.environ)) for _ in range(repeats + 1)][1:]
    return {**{k: statistics.median(r[k] for r in runs) for k in PHASES}, "all": [r["first_step"] for r in runs]}


def _wall(cmd: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True, timeout=120)
        times.append(time.perf_counter() - t0)
    return times


def cli_latency(repeats: int) -> dict[str, Any]:
    """Median wall times of ``artifex list`` / ``--help`` and of importing ``flax.nnx``."""
    script = Path(PY).parent / "artifex"
    artifex = [str(script)] if script.exists() else [PY, "-c", "from artifex_core.cli import main; main()"]
    _wall([*artifex, "list"], 1)  # warm the file cache
    _wall([PY, "-c", "import flax.nnx"], 1)
    res = {
        "artifex_list": _wall([*artifex, "list"], repeats),
        "artifex_help": _wall([*artifex, "--help"], repeats),
        "import_flax_nnx": _wall([PY, "-c", "import flax.nnx"], repeats),
        "python_startup": _wall([PY, "-c", "pass"], repeats),
    }
    out: dict[str, Any] = {k: statistics.median(v) for k, v in res.items()}
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('LOADED', 'jax' in sys.modules, 'flax' in sys.modules, file=sys.stderr))\n"
        "from artifex_core.cli import main\nsys.argv = ['artifex', 'list']\nmain()\n"
    )
    proc = subprocess.run([PY, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    loaded = next((ln.split()[1:] for ln in proc.stderr.splitlines() if ln.startswith("LOADED")), ["?", "?"])
    out["list_imports_jax"], out["list_imports_flax"] = loaded[0] == "True", loaded[1] == "True"
    out["ratio"] = out["artifex_list"] / out["import_flax_nnx"]
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the start-up measurements and print them as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["first_step", "cli", "torch"], default=None)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"kind": "startup"}
    if args.only in (None, "cli"):
        out["cli"] = cli_latency(max(3, args.repeats * 2))
    if args.only in (None, "first_step"):
        out["artifex"] = first_step_artifex(args.repeats)
    if args.only in (None, "torch", "first_step") and not args.no_torch:
        out["torch"] = first_step_torch(args.repeats)
    emit(out)


if __name__ == "__main__":
    main()
