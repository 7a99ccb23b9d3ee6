"""The zoo as an installed plugin: its entry point, registrations, parameters, recipes, and a tiny
``artifex train --model NAME`` + ``artifex evaluate`` of every model in a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from artifex_core import ModelConfig, models
from artifex_core.training import recipe
from artifex_zoo._recipes import RECIPES

MODELS = ("iwae", "miwae", "piwae", "vampprior", "hierarchical_vae", "dip_vae", "info_vae")


def test_entry_point_is_declared() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="artifex.plugins")}
    assert names.get("zoo") == "artifex_zoo"


def test_models_recipes_and_metric_are_registered() -> None:
    for name in MODELS:
        entry = models.entry(name)
        assert entry.qualified_id == f"zoo:{name}" and entry.plugin.dist == "artifex-zoo"
        model_part, train_part = recipe(name)
        assert model_part["model"] == name and model_part["parameters"]["reconstruction_loss_type"] == "bce"
        assert train_part["dataset"] == "mnist" and train_part["binarize"] == "auto"
        ModelConfig(**model_part)  # every recipe's model validates
    assert models.entry("hvae") is models.entry("hierarchical_vae") and models.entry("mmd_vae") is models.entry("info_vae")
    assert set(RECIPES) == set(MODELS)


def test_listing_imports_no_jax() -> None:
    env = {**os.environ, "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}
    probe = ("import sys, artifex_core; from artifex_core import models, recipes; models.entry('iwae'); "
             "recipes.entry('iwae'); print('jax' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    "model, parameters, message",
    [
        ("iwae", {"k": 0}, r"parameters\.k"),
        ("miwae", {"num_outer": -1}, r"parameters\.num_outer"),
        ("vampprior", {"num_pseudo_input": 3}, r"parameters\.num_pseudo_input: unknown parameter for model 'vampprior'; did you mean 'num_pseudo_inputs'"),
        ("dip_vae", {"dip_type": "iii"}, r"parameters\.dip_type"),
        ("info_vae", {"kernel": "gauss"}, r"parameters\.kernel"),
        ("hierarchical_vae", {"top_latent_dim": 0}, r"parameters\.top_latent_dim"),
    ],
)
def test_parameters_are_validated(model: str, parameters: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModelConfig(model=model, parameters=parameters)


TINY = ["--quiet", "--epochs", "1", "--batch-size", "32", "--set", "hidden_dims=[8]", "--set", "latent_dim=2"]
OWN = {
    "iwae": ["parameters.k=2"],
    "miwae": ["parameters.num_outer=2", "parameters.num_inner=2"],
    "piwae": ["parameters.num_outer=2", "parameters.num_inner=2"],
    "vampprior": ["parameters.num_pseudo_inputs=4"],
    "hierarchical_vae": ["parameters.top_latent_dim=2", "parameters.top_hidden_dims=[4]", "parameters.k=2"],
    "dip_vae": ["parameters.dip_type=ii"],
    "info_vae": ["parameters.alpha=1.0"],
}
NLL_METRIC = {"vampprior": "zoo_iwae", "hierarchical_vae": "zoo_iwae"}


def _artifex(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFEX_CACHE_DIR": str(tmp / "cache"), "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}
    return subprocess.run([sys.executable, "-m", "artifex_core.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "dots.npz"
    np.savez(path, x=(rng.random((96, 6, 6)) < 0.3).astype(np.uint8) * 255)
    return path


@pytest.mark.parametrize("model", MODELS)
def test_trains_and_evaluates_from_the_cli(model: str, npz: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    sets = [arg for value in OWN[model] for arg in ("--set", value)]
    proc = _artifex(["train", "--model", model, "--dataset", str(npz), "--out", str(out), *TINY, *sets], tmp_path)
    assert proc.returncode == 0, proc.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["model"] == model and config["train"]["epochs"] == 1
    metric = NLL_METRIC.get(model, "iwae")
    proc = _artifex(["evaluate", str(out), "--json", "--quiet", "--k", "4", "--limit", "8",
                     "--metric", metric, "--metric", "test_loss", *(["--metric", "iwae"] if metric != "iwae" else [])],
                    tmp_path)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)["metrics"]
    nll = figures[metric]["iwae_nll"]
    assert np.isfinite(nll) and nll > 0 and figures[metric]["k"] == 4
    assert np.isfinite(figures["test_loss"]["loss"])
    if metric != "iwae":  # the built-in bound assumes p(z) = N(0, I): it must not apply
        assert figures["iwae"] == {"skipped": "does not apply to this run"}
