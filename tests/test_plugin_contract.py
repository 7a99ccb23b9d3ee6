"""The plugin contract end to end, as a user meets it: ``artifex-goodplugin`` (staged by tests/conftest.py as
an installed package) registers a model (with ``VariantParams``), its recipe, a dataset, a metric, a logger
and a command, and every one of them is used by the ``artifex`` command. ``artifex-brokenplugin`` raises in its hooks and the CLI still works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("artifex_goodplugin", reason="staged by tests/conftest.py: run the tests from the repository root")


def artifex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "artifex_core.cli", *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=300)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.getbasetemp() / "artifex-cache"
    return {**os.environ, "ARTIFEX_CACHE_DIR": str(cache), "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}


@pytest.fixture(scope="module")
def run(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("good") / "run"
    proc = artifex("train", "--model", "tiny_vae", "--logger", "good_log", "--out", str(out), "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    return out


def test_train_uses_the_plugin_s_recipe_dataset_and_logger(run: Path) -> None:
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["model"] == "tiny_vae" and config["model"]["encoder"] == "tiny"
    assert config["model"]["parameters"] == {"free_bits": 0.5}  # the recipe's, validated by TinyVAEParams
    assert config["train"]["dataset"] == "blobs" and config["dataset"]["train_size"] == 256
    assert config["train"]["epochs"] == 2 and "good:good_log" in config["train"]["loggers"]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    logged = (run / "good_log.txt").read_text().splitlines()
    assert [r["epoch"] for r in rows] == [1, 2] and len(logged) == 2  # the logger received every epoch
    assert logged[-1].startswith("epoch 2 step 16") and f"{rows[-1]['test']['loss']:.4f}" in logged[-1]


def test_evaluate_reports_the_plugin_s_metric(run: Path, env: dict[str, str]) -> None:
    proc = artifex("evaluate", str(run), "--json", "--k", "8", env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    figures = report["metrics"]["good_recon"]
    assert figures["examples"] == 64 and 0.0 < figures["mae"] < 1.0
    assert {"test_loss", "iwae"} <= set(report["metrics"])  # the built-ins run beside it
    only = json.loads(artifex("evaluate", str(run), "--json", "--metric", "good_recon", env=env).stdout)
    assert list(only["metrics"]) == ["good_recon"] and only["metrics"]["good_recon"] == figures


def test_the_plugin_s_command_runs_and_is_listed(env: dict[str, str]) -> None:
    proc = artifex("good-hello", "--name", "you", env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "hello you from artifex-goodplugin"
    assert "good-hello" in artifex("--help", env=env).stdout


def test_listing_every_kind_imports_no_jax(env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom artifex_core.cli import main\nsys.argv = ['artifex', 'list', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('JAX' if any(m == 'jax' or m.startswith(('jax.', 'flax')) for m in sys.modules) else 'NOJAX')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    listing, verdict = proc.stdout.rsplit("\n", 2)[0], proc.stdout.strip().rsplit("\n", 1)[-1]
    names = {kind: {e["name"] for e in entries} for kind, entries in json.loads(listing).items()}
    for kind, name in [("models", "tiny_vae"), ("recipes", "tiny_vae"), ("datasets", "blobs"),
                       ("metrics", "good_recon"), ("loggers", "good_log")]:
        assert name in names[kind], (kind, name)
    assert verdict == "NOJAX", proc.stderr


def test_a_plugin_failing_in_its_commands_hook_is_reported_and_the_cli_works() -> None:
    env = {**os.environ, "ARTIFEX_DISABLE_PLUGINS": "broken"}  # keep broken_commands, the commands-hook failure
    proc = artifex("plugins", env=env)
    assert proc.returncode == 0 and "broken_commands" in proc.stdout and "failed" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert artifex("good-hello", env=env).returncode == 0
