"""ModelConfig: defaults, validation messages naming fields, parameters models, file formats, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from artifex_core import ConfigError, ModelConfig, load_config
from artifex_core.config import apply_overrides, format_validation_error


def _lines(**kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ModelConfig(**kwargs)
    return format_validation_error(info.value)


def test_defaults_and_derived_fields() -> None:
    cfg = ModelConfig(input_dim=(28, 28, 1), hidden_dims=(64, 32))
    assert cfg.model == "vae" and cfg.activation == "relu" and cfg.encoder == cfg.decoder == "mlp"
    assert cfg.output_dim == (28, 28, 1)
    assert cfg.decoder_hidden_dims == (32, 64)  # the factory reverses once, explicitly
    assert ModelConfig(input_dim=784).input_dim == (784,)


def test_frozen_and_extra_forbidden() -> None:
    cfg = ModelConfig()
    with pytest.raises(ValidationError):
        cfg.latent_dim = 3  # type: ignore[misc]
    assert _lines(latnet_dim=3) == ["latnet_dim: unknown field; did you mean 'latent_dim'?"]


def test_one_line_per_problem_naming_the_field() -> None:
    lines = _lines(latent_dim=0, encoder="cnnn", model="vae", activation="rellu")
    assert "latent_dim: Input should be greater than 0 (got 0)" in lines
    assert any(line.startswith("encoder: unknown encoder 'cnnn'; did you mean 'cnn'?") for line in lines)
    assert any(line.startswith("activation: unknown activation 'rellu'; did you mean 'relu'?") for line in lines)
    assert len(lines) == 3


def test_unknown_model_suggests() -> None:
    (line,) = _lines(model="beta_vea")
    assert line.startswith("model: unknown model 'beta_vea'; did you mean 'beta_vae'")


def test_parameters_validated_by_the_variant_model() -> None:
    cfg = ModelConfig(model="beta_vae_capacity", parameters={"gamma": "10", "use_capacity_control": True})
    assert cfg.parameters == {"gamma": 10.0, "use_capacity_control": True}
    assert cfg.resolved_parameters()["capacity_max"] == 25.0
    (line,) = _lines(model="beta_vae", parameters={"beta_defualt": 4})
    assert line.startswith("parameters.beta_defualt: unknown parameter for model 'beta_vae'; did you mean 'beta_default'?")
    (line,) = _lines(model="vqvae", parameters={"num_embeddings": 0})
    assert line.startswith("parameters.num_embeddings: Input should be greater than 0")
    (line,) = _lines(model="vae", parameters={"capacity_max": 3})  # a capacity argument on the plain VAE
    assert "unknown parameter for model 'vae'" in line


def test_conditional_requirements() -> None:
    assert _lines(conditional=True) == ["num_classes: required when conditional is true (e.g. num_classes=10)"]
    cfg = ModelConfig(model="conditional_vae", num_classes=10)
    assert cfg.conditional is True  # implied by the variant


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".json", json.dumps({"model": "beta_vae", "latent_dim": 8, "parameters": {"beta_default": 4}})),
        (".yaml", "model: beta_vae\nlatent_dim: 8\nparameters:\n  beta_default: 4\n"),
        (".toml", 'model = "beta_vae"\nlatent_dim = 8\n[parameters]\nbeta_default = 4\n'),
    ],
)
def test_load_every_format(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"cfg{suffix}"
    path.write_text(text)
    cfg = ModelConfig.from_file(path)
    assert (cfg.model, cfg.latent_dim, cfg.parameters) == ("beta_vae", 8, {"beta_default": 4.0})


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.json")
    bad = tmp_path / "c.ini"
    bad.write_text("x")
    with pytest.raises(ConfigError, match=r"unknown format '\.ini'"):
        load_config(bad)
    broken = tmp_path / "c.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError, match="could not be parsed"):
        load_config(broken)


def test_overrides_parse_values_and_dotted_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model: beta_vae\n")
    cfg = load_config(path, ["latent_dim=3", "hidden_dims=[8, 4]", "parameters.beta_default=2.5"])
    assert cfg.latent_dim == 3 and cfg.hidden_dims == (8, 4) and cfg.parameters == {"beta_default": 2.5}
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["latent_dim"])


def test_json_round_trip_and_schema() -> None:
    cfg = ModelConfig(model="vqvae", parameters={"num_embeddings": 16, "embedding_dim": 4}, latent_dim=8)
    assert ModelConfig.model_validate_json(cfg.model_dump_json()) == cfg
    schema = ModelConfig.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["latent_dim"]["exclusiveMinimum"] == 0


def test_variant_cross_field_check() -> None:
    (line,) = _lines(model="vqvae", latent_dim=20, parameters={"embedding_dim": 64})
    assert line.startswith("parameters.embedding_dim: latent_dim (20) must be a multiple of embedding_dim (64)")
    assert ModelConfig(model="vqvae", latent_dim=16, parameters={"embedding_dim": 8}).parameters["embedding_dim"] == 8
