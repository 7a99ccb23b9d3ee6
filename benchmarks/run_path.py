"""The path of a config through the code: ``artifex train`` to the first training step, module by module.

Runs the real ``artifex train`` in this process (a tiny MLP VAE on 256 MNIST examples) under
``sys.setprofile`` and records, for every Python call and return inside ``artifex_core``, the module of the
innermost ``artifex_core`` frame; it stops when the jitted train step's Python body (``one_step`` in
``steps.py``) is first entered, i.e. at the first training step. Module and class bodies (imports) are not
counted.

Two views of that timeline (consecutive repeats merged):

- ``all``: every ``artifex_core`` module, helpers included (``run_dir``, ``sharding``, ``config`` ...).
- ``path``: only the modules that carry the run (``cli/train_cmds``, ``training/plan``, ``training/run``,
  ``training/trainer``, ``training/steps``): the chain a reader follows from the CLI to the first step.

A *return* is an entry of the merged timeline whose module was already visited: control came back to a
module the path had left (after a call it made returned, or through a callback). A *re-entry* is a call
into a ``path`` module from another module after the first one (``path`` view only): a module entered once
does its whole job in one visit.

Example:
    $ python benchmarks/run_path.py            # prints the visited modules, the path and the returns
    $ python benchmarks/run_path.py --json
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

CHECKS = (
    "model_config_for", "check_buildable", "resolved_binarize", "check_training_data", "make_mesh",
    "check_trainable", "check_free", "qualify_loggers", "check_model_fits", "write_marker",
)
"""The functions that validate, resolve or check something: how often each runs on the way to the first step."""

PATH_MODULES = ("cli/train_cmds", "training/plan", "training/run", "training/trainer", "training/steps")


def _module(filename: str, root: str) -> str | None:
    if not filename.startswith(root) or not filename.endswith(".py"):
        return None
    return filename[len(root) :].removesuffix(".py")


def _merge(timeline: list[str]) -> list[str]:
    merged: list[str] = []
    for name in timeline:
        if not merged or merged[-1] != name:
            merged.append(name)
    return merged


def _returns(merged: list[str]) -> dict[str, int]:
    seen: set[str] = set()
    back: dict[str, int] = {}
    for name in merged:
        if name in seen:
            back[name] = back.get(name, 0) + 1
        seen.add(name)
    return back


def summarize(
    timeline: list[str], entries: dict[str, int] | None = None, calls: dict[str, int] | None = None
) -> dict[str, Any]:
    """The two views of a timeline of modules (see the module docstring); ``entries``: calls into each
    ``path`` module from another module; ``calls``: how often each function of :data:`CHECKS` ran."""
    merged = _merge(timeline)
    path = _merge([m for m in merged if m in PATH_MODULES])
    visited = list(dict.fromkeys(merged))
    out: dict[str, Any] = {"visited": visited, "n_visited": len(visited)}
    for key, seq in (("all", merged), ("path", path)):
        back = _returns(seq)
        out[key] = {"sequence": seq, "returns": sum(back.values()), "returns_by_module": back}
    again = {name: n - 1 for name, n in (entries or {}).items() if n > 1}
    out["path"].update(reentries=sum(again.values()), reentries_by_module=again)
    out["checks"] = {name: (calls or {}).get(name, 0) for name in CHECKS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="Print JSON only.")
    args = parser.parse_args()
    import artifex_core

    root = str(Path(artifex_core.__file__).parent) + os.sep
    timeline: list[str] = []
    stack: list[str] = []
    entries: dict[str, int] = {}
    calls: dict[str, int] = {}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("call", "return"):
            return
        name = _module(frame.f_code.co_filename, root)
        if name is None or not frame.f_code.co_flags & inspect.CO_OPTIMIZED:
            return  # module and class bodies (imports) are not steps of the path
        if event == "call":
            if name == "training/steps" and frame.f_code.co_name == "one_step":
                sys.setprofile(None)
                _report(summarize(timeline, entries, calls), args.json)
                os._exit(0)
            if frame.f_code.co_name in CHECKS:
                calls[frame.f_code.co_name] = calls.get(frame.f_code.co_name, 0) + 1
            if name in PATH_MODULES and (not stack or stack[-1] != name):
                entries[name] = entries.get(name, 0) + 1
            stack.append(name)
            timeline.append(name)
            if os.environ.get("RUN_PATH_DEBUG") and name in PATH_MODULES:
                print("call", name, frame.f_code.co_name, file=sys.stderr)
        elif stack:
            stack.pop()
            if stack:
                timeline.append(stack[-1])

    out = tempfile.mkdtemp(prefix="run-path-")
    sys.argv = ["artifex", "train", "--out", f"{out}/run", "--limit", "256", "--epochs", "1", "--batch-size", "64",
                "--set", "hidden_dims=[16]", "--set", "latent_dim=2", "--no-compile-cache", "--quiet"]
    from artifex_core.cli import main as cli_main

    sys.setprofile(profile)
    try:
        cli_main()
    finally:
        sys.setprofile(None)
    raise SystemExit("the first training step was never reached")


def _report(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"modules visited ({summary['n_visited']}): {', '.join(summary['visited'])}")
    for key in ("path", "all"):
        view = summary[key]
        print(f"{key}: {len(view['sequence'])} steps, {view['returns']} returns {view['returns_by_module']}")
        if key == "path":
            print(f"  {view['reentries']} re-entries {view['reentries_by_module']}")
            print("  " + " -> ".join(view["sequence"]))
    print("checks run: " + ", ".join(f"{name} {n}" for name, n in summary["checks"].items()))


if __name__ == "__main__":
    main()
