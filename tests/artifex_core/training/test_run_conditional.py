"""A whole run of the conditional VAE: one row of samples per class, classifier accuracy."""

from __future__ import annotations

from pathlib import Path

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


def test_conditional_run_samples_one_row_per_class_and_reports_accuracy(mnist: Dataset, tmp_path: Path) -> None:
    cfg = model_config_for({"model": "conditional_vae", "hidden_dims": [32], "latent_dim": 4, "embed_dim": 4}, mnist)
    run = run_training(cfg, TrainConfig(**TRAIN), tmp_path, dataset=mnist)
    assert Image.open(tmp_path / "samples.png").size == (8 * 30 + 2, 10 * 30 + 2)  # 10 classes x 8
    assert (tmp_path / "traversals.png").is_file()
    report = evaluate_run(load_run(tmp_path), dataset=mnist, k=5, samples_per_class=10)
    cond = report["metrics"]["conditional_accuracy"]
    assert 0.0 <= cond["sample_accuracy"] <= 1.0 and cond["samples_per_class"] == 10
    assert cond["classifier_test_accuracy"] > 0.3 and not cond["classifier_cached"]
    assert (tmp_path / "classifier.npz").is_file()
    again = evaluate_run(load_run(tmp_path), dataset=mnist, k=0, samples_per_class=10)
    assert again["metrics"]["conditional_accuracy"]["classifier_cached"] and "iwae" not in again["metrics"]
    test_loss = report["metrics"]["test_loss"]["loss"]
    assert test_loss == pytest.approx(run.result.history[-1]["test"]["loss"], rel=1e-5)
    assert report["metrics"]["iwae"]["iwae_bound"] <= test_loss  # mse: a bound, not an NLL; below the -ELBO
