"""Whole runs with the real models (``create_model``) on a slice of MNIST: run folder, reload, evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from artifex_core.data import Dataset
from artifex_core.training import TrainConfig, load_run, run_training
from artifex_core.training.evaluate import evaluate_run
from artifex_core.training.run import RunSetupError, TrainingRun, model_config_for
from artifex_plugins.data import load_mnist

TRAIN = {"epochs": 2, "batch_size": 32, "eval_batch_size": 1000, "log_every": 4, "warmup_steps": 4,
         "schedule": "warmup_cosine"}
TINY = {"hidden_dims": [32], "latent_dim": 4}


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_mnist(cache=False).subset(256)


def train(path: Path, ds: Dataset, model: dict[str, Any], **train: Any) -> TrainingRun:
    return run_training(model_config_for(model, ds), TrainConfig(**{**TRAIN, **train}), path, dataset=ds)


@pytest.fixture(scope="module")
def vae_run(mnist: Dataset, tmp_path_factory: pytest.TempPathFactory) -> TrainingRun:
    model = {"model": "vae", **TINY, "parameters": {"reconstruction_loss_type": "bce"}}
    return train(tmp_path_factory.mktemp("vae"), mnist, model)


def test_run_folder_contents(vae_run: TrainingRun) -> None:
    path = vae_run.run_dir.path
    config = json.loads((path / "config.json").read_text())
    assert config["model"]["input_dim"] == [28, 28, 1] and config["model"]["latent_dim"] == 4
    assert config["train"]["binarize"] == "dynamic"  # auto resolved from the bce likelihood, saved resolved
    assert config["dataset"]["train_size"] == 256 and config["devices"] >= 1
    lines = [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert {"loss", "reconstruction_loss", "kl_loss"} <= set(lines[-1]["test"])
    assert (path / "checkpoints" / "2").is_dir()
    # 8 x 8 grids of 28 px images with 2 px padding; traversals: latent_dim rows of 11 steps
    assert Image.open(path / "samples.png").size == (8 * 30 + 2, 8 * 30 + 2)
    assert Image.open(path / "reconstructions.png").size == (8 * 30 + 2, 8 * 30 + 2)
    traversals = np.asarray(Image.open(path / "traversals.png").convert("L"))
    margin = traversals.shape[1] - (11 * 30 + 2)  # a margin on the left names each row's latent dimension
    assert traversals.shape[0] == 4 * 30 + 2 and 0 < margin < 40
    assert all((traversals[2 + 30 * r : 30 * (r + 1), :margin] < 128).any() for r in range(4))  # z0 .. z3
    recon = np.asarray(Image.open(path / "reconstructions.png").convert("L"), np.float32)
    assert recon.std() > 10  # not a blank picture


def test_reload_restores_the_trained_state_and_evaluation_reproduces_the_test_loss(vae_run: TrainingRun) -> None:
    loaded = load_run(vae_run.run_dir.path)
    assert loaded.epoch == 2 and type(loaded.model).__name__ == "VAE"
    for a, b in zip(
        jax.tree.leaves(nnx.state(vae_run.model, nnx.Param)), jax.tree.leaves(nnx.state(loaded.model, nnx.Param)),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    report = evaluate_run(loaded, dataset=vae_run.dataset, k=200)
    final = vae_run.result.history[-1]["test"]
    metrics = report["metrics"]
    assert report["failed"] == [] and set(metrics) == {"test_loss", "elbo", "iwae", "active_units"}
    elbo = metrics["elbo"]  # a beta = 1 VAE: its test loss is the -ELBO, and the IWAE bound is tighter
    assert elbo["neg_elbo"] == pytest.approx(final["loss"], rel=0.02) and metrics["iwae"]["iwae_nll"] <= elbo["neg_elbo"] + 1
    assert metrics["test_loss"]["loss"] == pytest.approx(final["loss"], rel=1e-5)
    assert report["test_examples"] == 256 and report["checkpoint_epoch"] == 2
    units = metrics["active_units"]
    assert 0 <= units["active_units"] <= 4 and units["latent_dim"] == 4
    assert metrics["iwae"]["k"] == 200 and "iwae_bound" not in metrics["iwae"]  # bce: a normalised likelihood
    assert metrics["iwae"]["iwae_nll"] < final["loss"]  # the k=200 bound is tighter than the ELBO
    assert metrics["iwae"]["iwae_nll"] > 0.5 * final["loss"]


def test_model_and_dataset_must_fit(mnist: Dataset) -> None:
    with pytest.raises(RunSetupError, match=r"input_dim \[784\] does not match dataset 'mnist' examples of shape \[28, 28, 1\]"):
        model_config_for({"model": "vae", "input_dim": [784]}, mnist)
    unlabelled = Dataset.from_arrays("nolabels", mnist.train_images, None, mnist.test_images, None)
    with pytest.raises(RunSetupError, match="model 'conditional_vae' is conditional but dataset 'nolabels' has no labels"):
        model_config_for({"model": "conditional_vae"}, unlabelled)
    cfg = model_config_for({"model": "conditional_vae", **TINY}, mnist)
    assert cfg.conditional and cfg.num_classes == 10 and cfg.input_dim == (28, 28, 1)
