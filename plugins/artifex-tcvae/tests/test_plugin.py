"""artifex-tcvae as an installed plugin: registration, config validation and conformance.

Uses ``artifex_core.testing``: the ``artifex_registries`` / ``artifex_plugin`` fixtures and ``check_model``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import artifex_core
import artifex_tcvae
from artifex_core import ModelConfig
from artifex_core import AmbiguousNameError, models
from artifex_core.testing import check_model, tiny_config

TERMS = ("index_code_mi", "total_correlation", "dimension_wise_kl")


def test_registered_by_its_entry_point() -> None:
    entry = models.entry("tcvae")
    assert entry.qualified_id == "tcvae:tcvae"
    assert (entry.plugin.dist, entry.plugin.version) == ("artifex-tcvae", "0.1.0")
    assert entry.target_path == "artifex_tcvae.model:BetaTCVAE"
    assert models.entry("beta_tcvae") is entry
    status = next(s for s in artifex_core.plugin_statuses() if s.name == "tcvae")
    assert status.status == "ok" and status.registered == ["models:tcvae"]


def test_artifex_list_shows_tcvae_without_importing_jax() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFEX_")}
    artifex = str(Path(sys.executable).with_name("artifex"))
    result = subprocess.run([artifex, "list", "models", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["models"]}
    assert rows["tcvae"]["plugin"] == "tcvae" and rows["tcvae"]["dist"] == "artifex-tcvae"
    probe = "import sys, artifex_tcvae; print('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"


def test_config_validates_parameters() -> None:
    cfg = ModelConfig(model="tcvae", input_dim=(8,), latent_dim=2, parameters={"beta": 4.0, "dataset_size": 100})
    assert cfg.resolved_parameters() == {
        "alpha": 1.0,
        "beta": 4.0,
        "gamma": 1.0,
        "dataset_size": 100,
        "reconstruction_loss_type": "mse",
    }
    assert ModelConfig.model_validate_json(cfg.model_dump_json()) == cfg
    with pytest.raises(ValidationError, match=r"parameters\.betta: unknown parameter for model 'tcvae'; did you mean 'beta'"):
        ModelConfig(model="tcvae", parameters={"betta": 4.0})
    with pytest.raises(ValidationError, match=r"parameters\.gamma"):
        ModelConfig(model="tcvae", parameters={"gamma": -1.0})
    with pytest.raises(ValidationError, match=r"parameters\.dataset_size"):
        ModelConfig(model="tcvae", parameters={"dataset_size": 0})


def test_conforms_to_the_generative_model_contract() -> None:
    report = check_model("tcvae", config=tiny_config("tcvae", parameters={"dataset_size": 1000}))
    assert report["model"] == "BetaTCVAE"
    assert set(TERMS) <= set(report["loss_keys"])
    assert {"reconstruction_loss", "kl_loss", "total_loss", "loss"} <= set(report["loss_keys"])


class _SecondCopy:
    """The same hook under another plugin name, as a second installed plugin would register it."""

    @artifex_core.hookimpl
    def artifex_register(self, registry):
        artifex_tcvae.artifex_register(registry)


def test_a_clashing_plugin_is_reported_and_cleaned_up(artifex_plugin) -> None:
    status = artifex_plugin(_SecondCopy(), name="copy")
    assert status.status == "ok" and status.registered == ["models:tcvae"]
    with pytest.raises(AmbiguousNameError, match="copy:tcvae, tcvae:tcvae"):
        models.entry("tcvae")
    assert models.get("copy:tcvae") is models.get("tcvae:tcvae")


def test_isolation_restored_the_single_registration() -> None:
    assert models.entry("tcvae").qualified_id == "tcvae:tcvae"


def test_registering_into_isolated_registries(artifex_registries) -> None:
    models.unregister_plugin("tcvae")
    assert "tcvae" not in models
    artifex_core.register_plugin(_SecondCopy(), name="isolated")
    assert models.entry("tcvae").qualified_id == "isolated:tcvae"
