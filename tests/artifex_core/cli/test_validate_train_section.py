"""``artifex validate`` and ``build --config`` read training configs: the ``train:`` section that
``artifex train --config`` takes (and a run's ``config.json``) is checked, not refused as an unknown field."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from artifex_core.cli.app import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_the_shipped_train_example_validates() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "examples" / "train.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    resolved = json.loads(result.stdout)
    assert resolved["model"] == "beta_vae" and "train" not in resolved and resolved["encoder"] == "cnn"


def test_train_problems_are_named_train_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: vae\nlatent_dim: 4\ntrain:\n  epochs: 0\n  optimizer: adamm\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert errors[0] == "error: train.epochs: Input should be greater than 0 (got 0)"
    assert errors[1].startswith("error: train.optimizer: Input should be 'adam'") and len(errors) == 2
    bad.write_text("model: vae\ntrain: 3\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and "'train' must be a mapping" in result.stderr


def test_a_run_folders_config_json_validates(tmp_path: Path) -> None:
    config = {"model": {"model": "vae", "input_dim": [6], "latent_dim": 2, "hidden_dims": [4]},
              "train": {"epochs": 2, "dataset": "mnist"}, "dataset": {"name": "mnist"}, "devices": 1}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and f"{path} is a valid 'vae' config" in result.stdout
