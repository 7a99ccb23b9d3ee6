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


def _build_lines(**kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ModelConfig(**kwargs).check_buildable()
    return format_validation_error(info.value)


def test_unknown_encoder_and_decoder_kwargs_name_field_value_and_allowed() -> None:
    (line,) = _build_lines(input_dim=(8, 8, 1), encoder="cnn", encoder_kwargs={"spatail": True})
    assert line == (
        "encoder_kwargs.spatail: unknown argument for encoder 'cnn' (CNNEncoder) (got True); did you mean 'spatial'? "
        "(allowed: spatial, flatten, kernel_size, precision, blocks_per_stage)"
    )
    (line,) = _build_lines(input_dim=(8, 8, 1), decoder="resnet", decoder_kwargs={"blocks_per_stag": 1})
    assert line.startswith(
        "decoder_kwargs.blocks_per_stag: unknown argument for decoder 'resnet' (ResNetDecoder) (got 1)"
    )
    assert "did you mean 'blocks_per_stage'?" in line and "kernel_size" in line  # inherited parameters too
    (line,) = _build_lines(input_dim=(8,), encoder_kwargs={"foo": 1})
    assert line == "encoder_kwargs.foo: unknown argument for encoder 'mlp' (MLPEncoder) (got 1) (allowed: precision)"


def test_kwargs_the_factory_passes_itself_are_rejected() -> None:
    lines = _build_lines(input_dim=(8,), encoder_kwargs={"latent_dim": 3}, decoder_kwargs={"hidden_dims": [4]})
    assert lines == [
        "encoder_kwargs.latent_dim: set by the config field 'latent_dim'; remove it from encoder_kwargs (got 3)",
        "decoder_kwargs.hidden_dims: set by the config field 'decoder_hidden_dims'; remove it from decoder_kwargs "
        "(got [4])",
    ]


def test_conditional_kwargs_go_to_the_base_class_not_the_wrapper() -> None:
    cfg = ModelConfig(model="conditional_vae", input_dim=(8, 8, 1), encoder="cnn", decoder="cnn", num_classes=3,
                      encoder_kwargs={"kernel_size": 1}, decoder_kwargs={"kernel_size": 1})
    assert cfg.check_buildable() is cfg
    (line,) = _build_lines(model="conditional_vae", num_classes=3, input_dim=(8,), encoder_kwargs={"embed_dim": 4})
    assert line.startswith("encoder_kwargs.embed_dim: unknown argument for encoder 'mlp' (MLPEncoder)")


def test_output_dim_needs_as_many_values_as_input_dim() -> None:
    (line,) = _build_lines(input_dim=(8,), output_dim=(4,))
    assert line == (
        "output_dim: [4] has 4 values but input_dim [8] has 8; model 'vae' reconstructs its input, so they need as "
        "many values (drop output_dim to use input_dim)"
    )
    (line,) = _build_lines(model="vqvae", latent_dim=4, parameters={"embedding_dim": 4}, input_dim=(8, 8, 1),
                           encoder="cnn", decoder="cnn", output_dim=(4, 4, 1))
    assert line.startswith("output_dim: [4, 4, 1] has 16 values but input_dim [8, 8, 1] has 64")
    for inp, out in [((8,), (2, 4)), ((28, 28, 1), (784,)), ((8, 8, 1), (1, 8, 8))]:  # reshaped by the loss
        ModelConfig(input_dim=inp, output_dim=out).check_buildable()


def test_conditional_needs_a_model_taking_a_condition_and_a_base_encoder() -> None:
    (line,) = _build_lines(conditional=True, num_classes=3, input_dim=(8,))
    assert line.startswith("conditional: model 'vae' (VAE) takes no condition (its __call__ has no 'y'); use a "
                           "conditional model (conditional_vae")
    assert line.endswith("or set conditional=false")
    (line,) = _build_lines(encoder="conditional", input_dim=(8,))
    assert line.startswith("encoder: 'conditional' is a wrapper; pick a base encoder (cnn, mlp, resnet")


def test_integers_passed_to_the_model_fit_32_bits() -> None:
    (line,) = _build_lines(model="beta_vae", input_dim=(8,), parameters={"beta_warmup_steps": 2**40})
    assert line == (
        "parameters.beta_warmup_steps: 1099511627776 is out of range (at most 2147483647 in magnitude: JAX "
        "computes with 32-bit integers)"
    )
    (line,) = _build_lines(input_dim=(8,), hidden_dims=(4, 2**31))  # reported once, not again as decoder_hidden_dims
    assert line.startswith("hidden_dims[1]: 2147483648 is out of range")


def test_a_model_config_itself_stays_usable_for_other_encoder_types() -> None:
    # the factory functions take the encoder type separately, so ModelConfig alone does not check kwargs
    cfg = ModelConfig(input_dim=(8, 8, 1), encoder_kwargs={"spatial": True})
    with pytest.raises(ValidationError, match="encoder_kwargs.spatial: unknown argument for encoder 'mlp'"):
        cfg.check_buildable()


def test_load_config_checks_buildable(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"input_dim": [8], "decoder_kwargs": {"spatial": True}}))
    with pytest.raises(ValidationError, match="decoder_kwargs.spatial: unknown argument for decoder 'mlp'"):
        load_config(path)


def test_activation_names_are_those_the_registered_networks_declare(artifex_registries: object) -> None:
    from artifex_core.config import ACTIVATIONS_META, declared_activations
    from artifex_core.introspect import module_constant
    from artifex_core.registry import decoders, encoders

    # The built-in list is activations.py's, read from its source (one list, no JAX).
    builtin = module_constant(encoders.entry("mlp").meta[ACTIVATIONS_META])
    assert declared_activations() == builtin and "tanh" in builtin
    assert decoders.entry("cnn").meta[ACTIVATIONS_META] == encoders.entry("cnn").meta[ACTIVATIONS_META]
    # A plugin's network declaring another name makes it valid, suggestions included.
    encoders.register("mish_mlp", "artifex_plugins.vae.encoders:MLPEncoder", meta={ACTIVATIONS_META: ["mish"]})
    assert declared_activations() == (*builtin, "mish")
    assert ModelConfig(activation="mish").activation == "mish"
    (line,) = _lines(activation="mihs")
    assert line.startswith("activation: unknown activation 'mihs'; did you mean 'mish'?")
    assert line.endswith(f"(allowed: {', '.join((*builtin, 'mish'))})")


def test_any_activation_name_when_no_network_declares_any(monkeypatch: pytest.MonkeyPatch) -> None:
    from artifex_core.config import ACTIVATIONS_META
    from artifex_core.registry import decoders, encoders

    for registry in (encoders, decoders):
        for name in registry.names():
            monkeypatch.delitem(registry.entry(name).meta, ACTIVATIONS_META, raising=False)
    assert ModelConfig(activation="my_own").activation == "my_own"
