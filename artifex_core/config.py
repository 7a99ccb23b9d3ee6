"""``ModelConfig``: the typed description of a model, loadable from JSON, YAML or TOML.

Names (``model``, ``encoder``, ``decoder``) are checked against the registries and ``parameters``
against the pydantic model that the chosen variant registers, so a typo anywhere is an error naming the
field, the value and what is allowed. Validation imports no JAX.

Example:
    >>> cfg = ModelConfig(model="beta_vae", input_dim=(784,), latent_dim=8, hidden_dims=(64,),
    ...                   parameters={"beta_default": 4.0})
    >>> cfg.output_dim, cfg.parameters["beta_default"]
    ((784,), 4.0)
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, ValidationInfo, field_validator, model_validator

from artifex_core.registry import UnknownNameError, decoders, encoders, models

__all__ = ["ConfigError", "ModelConfig", "apply_overrides", "format_validation_error", "load_config", "read_config_file"]


class ConfigError(ValueError):
    """A config file that cannot be read or an override that cannot be applied."""


def _dims(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    return value


class ModelConfig(BaseModel):
    """What a model is made of; the factories build it with :func:`artifex_core.create_model`.

    Attributes:
        model: Registered model variant ("vae", "beta_vae", ... or a plugin's).
        input_dim: Shape of one input example, e.g. ``(28, 28, 1)`` or ``(784,)``.
        output_dim: Shape of one reconstruction; defaults to ``input_dim``.
        latent_dim: Size of the latent space (> 0).
        hidden_dims: Encoder widths or channels, in encoding order.
        decoder_hidden_dims: Decoder widths in decoding order; defaults to ``hidden_dims`` reversed.
        activation: Activation name.
        encoder: Registered encoder name.
        decoder: Registered decoder name.
        encoder_kwargs: Extra keyword arguments for the encoder class (e.g. ``{"spatial": true}``).
        decoder_kwargs: Extra keyword arguments for the decoder class.
        conditional: Wrap encoder and decoder in the conditional wrappers.
        num_classes: Number of classes when conditional.
        embed_dim: Label embedding size when conditional.
        parameters: The variant's own arguments, validated by the model it registers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    model: str = Field("vae", description="Registered model variant.")
    input_dim: tuple[PositiveInt, ...] = Field((28, 28, 1), description="Shape of one input example.")
    output_dim: tuple[PositiveInt, ...] | None = Field(None, description="Shape of one output; defaults to input_dim.")
    latent_dim: PositiveInt = Field(20, description="Latent space size.")
    hidden_dims: tuple[PositiveInt, ...] = Field((512, 256), description="Encoder widths, in encoding order.")
    decoder_hidden_dims: tuple[PositiveInt, ...] | None = Field(
        None, description="Decoder widths in decoding order; defaults to hidden_dims reversed."
    )
    activation: str = Field("relu", description="Activation function name.")
    encoder: str = Field("mlp", description="Registered encoder name.")
    decoder: str = Field("mlp", description="Registered decoder name.")
    encoder_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra encoder arguments.")
    decoder_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra decoder arguments.")
    conditional: bool = Field(False, description="Condition encoder and decoder on class labels.")
    num_classes: PositiveInt | None = Field(None, description="Number of classes when conditional.")
    embed_dim: PositiveInt = Field(32, description="Label embedding size when conditional.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="The variant's own arguments.")

    @field_validator("input_dim", "output_dim", "hidden_dims", "decoder_hidden_dims", mode="before")
    @classmethod
    def _int_is_1d(cls, value: Any) -> Any:
        return _dims(value)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return _check_name(models, value)

    @field_validator("encoder")
    @classmethod
    def _known_encoder(cls, value: str) -> str:
        return _check_name(encoders, value)

    @field_validator("decoder")
    @classmethod
    def _known_decoder(cls, value: str) -> str:
        return _check_name(decoders, value)

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        valid = ("relu", "gelu", "silu", "swish", "tanh", "leaky_relu", "elu", "softplus", "sigmoid")
        if value not in valid:
            close = difflib.get_close_matches(value, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown activation {value!r}{hint} (allowed: {', '.join(valid)})")
        return value

    @field_validator("parameters")
    @classmethod
    def _valid_parameters(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = info.data.get("model")
        params_cls = _params_model(model)
        if params_cls is None:
            return value
        return _validate_parameters(str(model), params_cls, value)

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("output_dim") is None and "input_dim" in data:
            data["output_dim"] = data["input_dim"]
        params_cls = _params_model(data.get("model", "vae"))
        if getattr(params_cls, "requires_condition", False) and "conditional" not in data:
            data["conditional"] = True
        return data

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        if self.output_dim is None:
            object.__setattr__(self, "output_dim", self.input_dim)
        if self.decoder_hidden_dims is None:
            object.__setattr__(self, "decoder_hidden_dims", tuple(reversed(self.hidden_dims)))
        if self.conditional and self.num_classes is None:
            raise ValueError("num_classes: required when conditional is true (e.g. num_classes=10)")
        params_cls = _params_model(self.model)
        if hasattr(params_cls, "check_config"):
            params_cls.check_config(self.latent_dim, self.parameters)
        if getattr(params_cls, "requires_condition", False) and not self.conditional:
            raise ValueError(f"conditional: model {self.model!r} is conditional; set conditional=true")
        return self

    def resolved_parameters(self) -> dict[str, Any]:
        """The variant's arguments with every default filled in."""
        params_cls = _params_model(self.model)
        if params_cls is None:
            return dict(self.parameters)
        return params_cls.model_validate(self.parameters).model_dump()

    @classmethod
    def from_file(cls, path: str | Path, overrides: Iterable[str] = ()) -> ModelConfig:
        """Load a config from a ``.json``, ``.yaml``/``.yml`` or ``.toml`` file, then apply overrides."""
        return load_config(path, overrides)


def _check_name(registry: Any, value: str) -> str:
    try:
        registry.entry(value)
    except UnknownNameError as exc:
        raise ValueError(str(exc)) from None
    except LookupError as exc:  # ambiguous
        raise ValueError(str(exc)) from None
    return value


def _params_model(model: Any) -> Any:
    if not isinstance(model, str):
        return None
    try:
        return models.entry(model).load_params()
    except LookupError:
        return None


def _validate_parameters(model: str, params_cls: type[BaseModel], given: dict[str, Any]) -> dict[str, Any]:
    try:
        validated = params_cls.model_validate(given)
    except ValidationError as exc:
        allowed = list(params_cls.model_fields)
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    f"parameters.{name}: unknown parameter for model {model!r}{hint} (allowed: {', '.join(allowed)})"
                )
            else:
                problems.append(f"parameters.{name}: {err['msg']} (got {err.get('input')!r})")
        raise ValueError("; ".join(problems)) from None
    return validated.model_dump(exclude_unset=True)


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem, each naming the field: ``latent_dim: Input should be greater than 0 (got -1)``."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(field, list(ModelConfig.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{field}: unknown field{hint}")
        elif err["type"] == "value_error":
            lines.append(msg if ":" in msg.split(" ")[0] else f"{field}: {msg}")
        else:
            lines.append(f"{field}: {msg} (got {err.get('input')!r})")
    return lines


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON, YAML or TOML file into a dict.

    Raises:
        ConfigError: Missing file, unknown extension or a parse error, naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise ConfigError(f"config file {str(path)!r}: unknown format {suffix!r} (allowed: .json, .yaml, .yml, .toml)")
    except (json.JSONDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} could not be parsed: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping, not {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides; dotted keys reach into mappings, values are parsed as YAML.

    Example:
        >>> apply_overrides({"parameters": {}}, ["latent_dim=8", "parameters.beta_default=4"])
        {'parameters': {'beta_default': 4}, 'latent_dim': 8}
    """
    data = json.loads(json.dumps(data))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} must look like key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a mapping")
            node = child
        node[parts[-1]] = value
    return data


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (), **base: Any) -> ModelConfig:
    """Build a :class:`ModelConfig` from a file (optional), keyword defaults and ``key=value`` overrides.

    Raises:
        ConfigError: The file cannot be read or an override is malformed.
        pydantic.ValidationError: The result is not a valid config.
    """
    data: dict[str, Any] = dict(base)
    if path is not None:
        data.update(read_config_file(path))
    data = apply_overrides(data, overrides)
    return ModelConfig.model_validate(data)
