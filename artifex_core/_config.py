"""``ModelConfig``: the typed description of a model, loadable from JSON, YAML or TOML.

Names (``model``, ``encoder``, ``decoder``) are checked against the registries and ``parameters``
against the pydantic model that the chosen variant registers, so a typo anywhere is an error naming the
field, the value and what is allowed. :meth:`ModelConfig.check_buildable` (run by :func:`load_config`, so by
``artifex validate`` and ``artifex build``) also checks what building needs: ``encoder_kwargs`` /
``decoder_kwargs`` against the classes' constructors read from source, ``output_dim`` against ``input_dim``
and integer ranges. Validation imports no JAX.

Reading files and ``--set`` overrides lives in :mod:`artifex_core._config_files`, the plain-JSON rule for
their values (and its limits, :data:`~artifex_core._config_values.MAX_DEPTH`, ...) in
:mod:`artifex_core._config_values`; their names are importable from here too (the 0.1 path
``artifex_core.config``).

Example:
    >>> cfg = ModelConfig(model="beta_vae", input_dim=(784,), latent_dim=8, hidden_dims=(64,),
    ...                   parameters={"beta_default": 4.0})
    >>> cfg.output_dim, cfg.parameters["beta_default"]
    ((784,), 4.0)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, ValidationInfo, field_validator, model_validator

from artifex_core._buildable import build_problems
from artifex_core._config_files import apply_overrides, read_config_file
from artifex_core._config_values import INT32_MAX, INT64_MAX, MAX_DEPTH, ConfigError, path_text, show
from artifex_core._introspect import module_constant
from artifex_core._lookup_errors import UnknownNameError
from artifex_core._params import VariantParams, params_of, requires_condition
from artifex_core._registry import decoders, encoders, models

__all__ = [
    "ACTIVATIONS_META",
    "INT32_MAX",
    "INT64_MAX",
    "MAX_DEPTH",
    "ConfigError",
    "ModelConfig",
    "apply_overrides",
    "declared_activations",
    "format_validation_error",
    "load_config",
    "read_config_file",
]


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

    @field_validator("model", "encoder", "decoder")
    @classmethod
    def _registered_name(cls, value: str, info: ValidationInfo) -> str:
        return _check_name(_NAME_REGISTRIES[str(info.field_name)], value)

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        valid = declared_activations()
        if valid and value not in valid:
            close = difflib.get_close_matches(value, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown activation {value!r}{hint} (allowed: {', '.join(valid)})")
        return value

    @field_validator("parameters")
    @classmethod
    def _valid_parameters(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = info.data.get("model")
        params_cls = params_of(model)
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
        if "conditional" not in data and requires_condition(data.get("model", cls.model_fields["model"].default)):
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
        params_cls = params_of(self.model)
        if params_cls is None:
            return self
        if params_cls.requires_condition and not self.conditional:
            raise ValueError(f"conditional: model {self.model!r} is conditional; set conditional=true")
        params_cls.check_config(self)
        return self

    def variant_params(self) -> VariantParams | None:
        """The variant's parameters as an instance of its :class:`~artifex_core.VariantParams` (defaults filled
        in), or None for a model registered without ``params``."""
        params_cls = params_of(self.model)
        return None if params_cls is None else params_cls.model_validate(self.parameters)

    def likelihood(self) -> str | None:
        """The registered loss the model declares for its reconstruction term
        (:meth:`VariantParams.likelihood <artifex_core.VariantParams.likelihood>`), or None."""
        params = self.variant_params()
        return None if params is None else params.likelihood()

    def resolved_parameters(self) -> dict[str, Any]:
        """The variant's arguments with every default filled in (``VariantParams.config_defaults`` first)."""
        params_cls = params_of(self.model)
        if params_cls is None:
            return dict(self.parameters)
        derived = params_cls.config_defaults(self)
        return params_cls.model_validate({**derived, **self.parameters}).model_dump()

    def check_buildable(self) -> ModelConfig:
        """Check what :func:`artifex_core.create_model` needs beyond each field being valid; imports no JAX.

        - ``encoder`` / ``decoder`` name base classes, not wrappers (registry meta ``wrapper``).
        - ``encoder_kwargs`` / ``decoder_kwargs`` keys are arguments of the encoder / decoder class that is
          built (its constructor read from source, inherited parameters included; a class taking
          ``**kwargs`` or defining ``from_config`` takes anything), not the ones the factory passes itself
          (``latent_dim``, ``hidden_dims``, ...), and every required argument is given. With
          ``conditional=true`` they still go to the base class: the wrappers take none.
        - An encoder or decoder declaring a class attribute ``input_ndim`` / ``output_ndim`` gets an
          ``input_dim`` / ``output_dim`` of that many axes.
        - ``output_dim`` has as many values as ``input_dim`` (the loss compares the reconstruction with the
          input, reshaped), unless the model's registry entry declares ``meta={"reconstructs_input": False}``.
        - ``conditional=true`` needs a model whose ``__call__`` takes ``y``.
        - Integers passed to the model (dims, ``parameters``, extra arguments) fit JAX's 32-bit integers.

        Returns:
            The config itself.

        Raises:
            pydantic.ValidationError: One error per problem, each message naming the field, the value
                and what is allowed (see :func:`format_validation_error`).
        """
        problems = build_problems(self)
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    {"type": "value_error", "loc": loc, "input": value, "ctx": {"error": ValueError(message)}}
                    for loc, value, message in problems
                ],
            )
        return self

    @classmethod
    def from_file(cls, path: str | Path, overrides: Iterable[str] = ()) -> ModelConfig:
        """Load a config from a ``.json``, ``.yaml``/``.yml`` or ``.toml`` file, then apply overrides."""
        return load_config(path, overrides)


ACTIVATIONS_META = "activations"
"""The ``encoders`` / ``decoders`` registry ``meta`` key listing the activation names an entry takes: a list
of names, or a lazy ``"module:NAME"`` of a literal tuple (read from source, so validation imports nothing)."""


def declared_activations() -> tuple[str, ...]:
    """Every activation name the registered encoders and decoders declare (registry meta
    :data:`ACTIVATIONS_META`), in order; empty when none declares any (then any name is accepted).

    Example:
        >>> "relu" in declared_activations()
        True
    """
    names: list[str] = []
    for registry in (encoders, decoders):
        for name in registry.names():
            declared = registry.entry(name).meta.get(ACTIVATIONS_META, ())
            if isinstance(declared, str):
                declared = module_constant(declared) or ()
            names += [n for n in declared if isinstance(n, str) and n not in names]
    return tuple(names)


_NAME_REGISTRIES = {"model": models, "encoder": encoders, "decoder": decoders}
"""The registry each name field of :class:`ModelConfig` is checked against."""


def _check_name(registry: Any, value: str) -> str:
    try:
        registry.entry(value)
    except UnknownNameError as exc:
        raise ValueError(str(exc)) from None
    except LookupError as exc:  # ambiguous
        raise ValueError(str(exc)) from None
    return value


def _validate_parameters(model: str, params_cls: type[VariantParams], given: dict[str, Any]) -> dict[str, Any]:
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
                problems.append(f"parameters.{name}: {err['msg']} (got {show(err.get('input'))})")
        raise ValueError("; ".join(problems)) from None
    return validated.model_dump(exclude_unset=True)


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem, each naming the field: ``latent_dim: Input should be greater than 0 (got -1)``."""
    lines = []
    for err in exc.errors():
        field = path_text(tuple(err["loc"])) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(field, list(ModelConfig.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{field}: unknown field{hint}")
        elif err["type"] == "value_error":
            lines.append(msg if ":" in msg.split(" ")[0] else f"{field}: {msg}")
        else:
            lines.append(f"{field}: {msg} (got {show(err.get('input'))})")
    return lines


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (), **base: Any) -> ModelConfig:
    """Build a :class:`ModelConfig` from a file (optional), keyword defaults and ``key=value`` overrides.

    The result is also checked with :meth:`ModelConfig.check_buildable`: what this accepts, ``create_model``
    builds.

    Raises:
        ConfigError: The file cannot be read or an override is malformed.
        pydantic.ValidationError: The result is not a valid config, or not one that can be built.
    """
    data: dict[str, Any] = dict(base)
    if path is not None:
        data.update(read_config_file(path))
    data = apply_overrides(data, overrides)
    return ModelConfig.model_validate(data).check_buildable()
