"""`artifex validate`, `schema` and `build`: clean errors, exit codes, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from artifex_core.cli import app

runner = CliRunner()


def test_validate_ok_and_bad(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("model: beta_vae\nlatent_dim: 4\nparameters:\n  beta_default: 4\n")
    result = runner.invoke(app, ["validate", str(good)])
    assert result.exit_code == 0 and "valid 'beta_vae' config" in result.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "beta_vae", "latent_dim": -2, "parameters": {"beta": 4}}))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0] == "error: latent_dim: Input should be greater than 0 (got -2)"
    assert lines[1].startswith("error: parameters.beta: unknown parameter for model 'beta_vae'")
    assert "Traceback" not in result.output


def test_validate_missing_file_and_overrides(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text('model = "vae"\n')
    result = runner.invoke(app, ["validate", str(cfg), "--set", "latent_dim=7", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["latent_dim"] == 7


def test_schema_to_file(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    result = runner.invoke(app, ["schema", "-o", str(out)])
    assert result.exit_code == 0
    assert "latent_dim" in json.loads(out.read_text())["properties"]


def test_build_needs_exactly_one_source() -> None:
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 2 and "give either a model NAME or --config FILE" in result.stderr


def test_build_unknown_model_exits_2() -> None:
    result = runner.invoke(app, ["build", "vea"])
    assert result.exit_code == 2
    assert "unknown model 'vea'; did you mean 'vae'" in result.stderr


def test_build_bad_override_exits_2() -> None:
    result = runner.invoke(app, ["build", "vae", "--set", "latent_dim=x"])
    assert result.exit_code == 2 and "latent_dim:" in result.stderr
