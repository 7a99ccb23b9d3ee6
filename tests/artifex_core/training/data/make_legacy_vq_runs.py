"""How the artifex 0.1 VQ-VAE run folders here were made (run once, with the old code; not a test).

    git worktree add /tmp/old48 48fb7b0   # the last commit with the codebook on the model itself
    cd tests/artifex_core/training/data && PYTHONPATH=/tmp/old48 python make_legacy_vq_runs.py .

trains ``vqvae-0.1`` (codebook by gradient: a Param, with Adam moments) and ``vqvae-ema-0.1`` (EMA
codebook: not a Param) for one epoch on 256 MNIST examples, drops the pictures the tests do not read, and
records what the old code computes from them in ``expected.json``: ``artifex evaluate --json``, the code
counts, the codebook, ``model.sample(4, rngs=nnx.Rngs(0))`` and reconstructions of 8 test images (their
per-image sums), and ``artifex sample -n 8`` as ``sample.png``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

COMMON = ["--model", "vqvae", "--set", "hidden_dims=[4]", "--set", "latent_dim=4",
          "--set", "parameters.num_embeddings=8", "--set", "parameters.embedding_dim=2",
          "--set", "warmup_steps=1", "--set", "lr=0.02", "--epochs", "1", "--limit", "256", "--batch-size", "32"]
RUNS = {"vqvae-0.1": [], "vqvae-ema-0.1": ["--set", "parameters.use_ema=true"]}


def cli(*args: str) -> str:
    env = {**os.environ, "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}
    done = subprocess.run([sys.executable, "-m", "artifex_core.cli", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def record(folder: Path) -> dict[str, Any]:
    from flax import nnx

    from artifex_core.training import load_run
    from artifex_plugins.data import load_mnist

    run = folder / "run"
    report = json.loads(cli("evaluate", str(run), "--json"))
    cli("sample", str(run), "-n", "8", "-o", str(folder / "sample.png"), "--json")
    (run / "evaluation.json").unlink(missing_ok=True)
    model = load_run(run).model
    codebook = getattr(model, "codebook", None) or model.latent.codebook
    x = load_mnist(cache=False).x_test[:8]
    return {
        "epoch": report["checkpoint_epoch"],
        "test_loss": report["metrics"]["test_loss"],
        "vq_usage": report["metrics"]["vq_usage"],
        "code_usage": np.asarray(model.code_usage()).tolist(),
        "codebook": np.asarray(codebook[...]).tolist(),
        "sample_sums": np.asarray(model.sample(4, rngs=nnx.Rngs(0))).sum(axis=(1, 2, 3)).tolist(),
        "reconstruction_sums": np.asarray(model.reconstruct(x)).sum(axis=(1, 2, 3)).tolist(),
    }


def main(out: Path) -> None:
    for name, extra in RUNS.items():
        folder = out / name
        cli("train", *COMMON, *extra, "--out", str(folder / "run"), "-q")
        for picture in ("samples.png", "reconstructions.png", "codebook_usage.png", ".lock"):
            (folder / "run" / picture).unlink(missing_ok=True)
        (folder / "expected.json").write_text(json.dumps(record(folder), indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
