"""A whole run of the VQ-VAE: codebook usage picture, NMSE, perplexity and codes used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex_core.data import Dataset
from artifex_core.training import load_run, run_training
from artifex_core.training import TrainConfig
from artifex_core.training import evaluate_run
from artifex_core.training import model_config_for
from artifex_plugins.data import load_mnist

TRAIN = {"epochs": 1, "batch_size": 32, "log_every": 4}


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_mnist(cache=False).subset(256)


def test_vq_run_shows_codebook_usage_and_reports_vq_metrics(mnist: Dataset, tmp_path: Path) -> None:
    cfg = model_config_for(
        {"model": "vqvae", "hidden_dims": [32], "latent_dim": 8,
         "parameters": {"num_embeddings": 16, "embedding_dim": 4}},
        mnist,
    )
    run = run_training(cfg, TrainConfig(**TRAIN), tmp_path, dataset=mnist)
    assert run.train_config.binarize == "none"  # mse likelihood
    assert (tmp_path / "codebook_usage.png").is_file() and not (tmp_path / "traversals.png").exists()
    counts = np.asarray(run.model.code_usage())
    assert counts.sum() == 8 * 32 * 2  # 8 steps of 32 examples, 2 codes each: counted in training only
    report = evaluate_run(load_run(tmp_path), dataset=mnist)
    vq = report["metrics"]["vq_usage"]
    assert 0 < vq["nmse"] < 2 and 1 <= vq["perplexity"] <= 16 and 1 <= vq["codes_used"] <= 16
    assert set(report["metrics"]) == {"test_loss", "vq_usage"}  # no Gaussian-latent metrics
