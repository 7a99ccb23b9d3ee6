"""``ModelConfig``: the typed description of a model, loadable from JSON, YAML or TOML.

Names (``model``, ``encoder``, ``decoder``) are checked against the registries and ``parameters``
against the pydantic model that the chosen variant registers, so a typo anywhere is an error naming the
field, the value and what is allowed. :meth:`ModelConfig.check_buildable` (run by :func:`load_config`, so by
``artifex validate`` and ``artifex build``) also checks what building needs: ``encoder_kwargs`` /
``decoder_kwargs`` against the classes' constructors read from source, ``output_dim`` against ``input_dim``
and integer ranges. Config files and ``--set`` values must hold JSON values only (strings, finite numbers,
booleans, null, lists, mappings with string keys), nested at most :data:`MAX_DEPTH` levels; anything else is
a :class:`ConfigError` naming the file and the field. Validation imports no JAX.

Example:
    >>> cfg = ModelConfig(model="beta_vae", input_dim=(784,), latent_dim=8, hidden_dims=(64,),
    ...                   parameters={"beta_default": 4.0})
    >>> cfg.output_dim, cfg.parameters["beta_default"]
    ((784,), 4.0)
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import math
import re
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, ValidationInfo, field_validator, model_validator

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

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings a config file or ``--set`` value may have."""
MAX_VALUES = 100_000
"""Most values (scalars, lists, mappings; YAML aliases counted each time) a config may hold."""
MAX_FILE_BYTES = 16 * 2**20
"""Largest config file read."""
INT64_MAX = 2**63 - 1
"""Largest integer magnitude a config file or ``--set`` value may hold."""
INT32_MAX = 2**31 - 1
"""Largest integer a model config may pass to a model: JAX computes with 32-bit integers by default."""

_ALLOWED_VALUES = "allowed: strings, finite numbers, true/false, null, lists and mappings with string keys"


class ConfigError(ValueError):
    """A config file that cannot be read or an override that cannot be applied."""


class _LongInt:
    """Stands in for an integer literal too long for Python to convert (``sys.get_int_max_str_digits``)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _int_digit_limit() -> int | None:
    return sys.get_int_max_str_digits() or None


def _show(value: Any, limit: int = 80) -> str:
    """``repr(value)``, shortened to ``limit`` characters, never failing (huge integers, odd objects)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {_digits(value)} digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _digits(value: int) -> int:
    return max(1, math.ceil(abs(value).bit_length() * math.log10(2)))


def _path_text(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text if len(text) <= 120 else text[:119] + "…"


def _describe(value: Any) -> str:
    """What a non-JSON value is, in words: ``a date (2024-01-01)``."""
    if isinstance(value, _dt.datetime):
        return f"a timestamp ({value.isoformat()})"
    if isinstance(value, _dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, _dt.time):
        return f"a time ({value.isoformat()})"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return f"a {type(value).__name__} ({_show(value, 40)})"


def _json_problem(value: Any) -> str | None:
    """Why a scalar is not an acceptable JSON value, or None when it is one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, _LongInt):
        return f"an integer of {value.digits} digits is out of range (at most {INT64_MAX} in magnitude)"
    if isinstance(value, int):
        if abs(value) > INT64_MAX:
            return f"{_show(value)} is out of range (at most {INT64_MAX} in magnitude)"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number (JSON has no inf or nan)"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"the string {_show(value, 40)} is not valid Unicode (it holds a lone surrogate)"
        return None
    return f"{_describe(value)} is not a JSON value ({_ALLOWED_VALUES})"


def _json_clean(value: Any, where: str, path: tuple[str | int, ...] = ()) -> Any:
    """A deep copy of ``value`` made of plain JSON values only (tuples become lists).

    Raises:
        ConfigError: ``"{where}: {path}: {what is wrong}"`` for the first value that is not plain JSON, a
            mapping key that is not a string, nesting deeper than :data:`MAX_DEPTH` or more than
            :data:`MAX_VALUES` values.
    """
    budget = [MAX_VALUES]

    def fail(at: tuple[str | int, ...], problem: str) -> ConfigError:
        return ConfigError(f"{where}: {_path_text(at)}: {problem}" if at else f"{where}: {problem}")

    def walk(node: Any, at: tuple[str | int, ...]) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise fail((), f"holds more than {MAX_VALUES} values (YAML aliases are counted each time they are used)")
        if isinstance(node, (dict, list, tuple)) and len(at) >= MAX_DEPTH:
            raise fail(at, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            out = {}
            for key, child in node.items():
                if not isinstance(key, str):
                    what = _describe(key) if isinstance(key, (_dt.date, _dt.time)) else _show(key, 40)
                    raise fail(at, f"key {what} (type {type(key).__name__}) is not a string (quote it)")
                problem = _json_problem(key)
                if problem is not None:
                    raise fail(at, f"key: {problem}")
                out[key] = walk(child, (*at, key))
            return out
        if isinstance(node, (list, tuple)):
            return [walk(child, (*at, i)) for i, child in enumerate(node)]
        problem = _json_problem(node)
        if problem is not None:
            raise fail(at, problem)
        return node

    return walk(value, path)


class _YamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that turns integer literals too long to convert into :class:`_LongInt`."""


def _yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    limit = _int_digit_limit()
    digits = sum(ch.isdigit() for ch in text)
    if limit is not None and digits > limit:
        return _LongInt(digits)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_YamlLoader.add_constructor("tag:yaml.org,2002:int", _yaml_int)


def _json_int(text: str) -> Any:
    limit = _int_digit_limit()
    digits = len(text.lstrip("-"))
    return _LongInt(digits) if limit is not None and digits > limit else int(text)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _parse_text(text: str, suffix: str, where: str) -> Any:
    """Parse ``text`` as JSON, YAML or TOML by ``suffix``; every parser failure is a :class:`ConfigError`."""
    try:
        if suffix == ".json":
            return json.loads(text, parse_int=_json_int)
        if suffix in {".yaml", ".yml"}:
            return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{where}: nested too deep to parse (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        limit = _int_digit_limit()
        long = re.search(r"\d[\d_]{%d,}" % (limit or 4300), text) if "integer string conversion" in str(exc) else None
        if long is not None:
            line = text.count("\n", 0, long.start()) + 1
            digits = sum(ch.isdigit() for ch in long.group())
            raise ConfigError(
                f"{where}: line {line}: an integer of {digits} digits is out of range "
                f"(at most {INT64_MAX} in magnitude)"
            ) from None
        raise ConfigError(f"{where} could not be parsed: {_one_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - whatever a parser raises on bad text is a parse error
        raise ConfigError(f"{where} could not be parsed: {_one_line(exc)}") from None


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
        from artifex_core._buildable import build_problems  # it imports this module's helpers

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
                problems.append(f"parameters.{name}: {err['msg']} (got {_show(err.get('input'))})")
        raise ValueError("; ".join(problems)) from None
    return validated.model_dump(exclude_unset=True)


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem, each naming the field: ``latent_dim: Input should be greater than 0 (got -1)``."""
    lines = []
    for err in exc.errors():
        field = _path_text(tuple(err["loc"])) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(field, list(ModelConfig.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{field}: unknown field{hint}")
        elif err["type"] == "value_error":
            lines.append(msg if ":" in msg.split(" ")[0] else f"{field}: {msg}")
        else:
            lines.append(f"{field}: {msg} (got {_show(err.get('input'))})")
    return lines


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON, YAML or TOML file (UTF-8) into a dict of plain JSON values.

    Raises:
        ConfigError: Missing or unreadable file, unknown extension, text that is not UTF-8, a parse error,
            a value that is not plain JSON (a YAML date, a set, binary data, a non-string key, inf or nan),
            an integer beyond :data:`INT64_MAX` or nesting deeper than :data:`MAX_DEPTH`: naming the file
            and, where there is one, the field (``config file 'm.yaml': parameters.beta_default: a date
            (2024-01-01) is not a JSON value ...``).
    """
    path = Path(path)
    where = f"config file {str(path)!r}"
    if not path.is_file():
        raise ConfigError(f"{where} does not exist")
    suffix = path.suffix.lower()
    if suffix not in {".json", ".yaml", ".yml", ".toml"}:
        raise ConfigError(f"{where}: unknown format {suffix!r} (allowed: .json, .yaml, .yml, .toml)")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{where} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{where} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, column {column} (save it as UTF-8)"
        ) from None
    data = _parse_text(text, suffix, where)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a mapping, not {type(data).__name__}")
    return _json_clean(data, where)


def _override_value(item: str, raw: str, path: tuple[str, ...]) -> Any:
    """The YAML value of one override, checked like a config file's values (unparsable YAML stays a string)."""
    where = f"override {_show(item)}"
    if not raw.strip():
        return raw
    try:
        value = yaml.load(raw, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return raw
    except RecursionError:
        raise ConfigError(f"{where}: nested too deep to parse (at most {MAX_DEPTH} levels)") from None
    except Exception as exc:  # noqa: BLE001 - e.g. an impossible date: YAML that parses to nothing valid
        raise ConfigError(f"{where}: {_one_line(exc)} (quote the value to pass a string)") from None
    try:
        return _json_clean(value, where, path)
    except ConfigError as exc:
        if isinstance(value, (_dt.date, _dt.time, bytes, bytearray, set, frozenset)):
            raise ConfigError(f"{exc} (quote the value to pass a string)") from None
        raise


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides; dotted keys reach into mappings, values are parsed as YAML.

    Values are checked as a config file's are (plain JSON values only, finite numbers, integers within
    :data:`INT64_MAX`, at most :data:`MAX_DEPTH` levels, keys included).

    Example:
        >>> apply_overrides({"parameters": {}}, ["latent_dim=8", "parameters.beta_default=4"])
        {'parameters': {'beta_default': 4}, 'latent_dim': 8}

    Raises:
        ConfigError: An override that is not ``key=value``, has an empty key part, reaches through a value
            that is not a mapping, or whose value is not plain JSON.
    """
    data = _json_clean(data, "config")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {_show(item)} must look like key=value")
        parts = tuple(part.strip() for part in key.strip().split("."))
        if not all(parts):
            raise ConfigError(f"override {_show(item)}: key {_show(key.strip())} has an empty part")
        if len(parts) > MAX_DEPTH:
            raise ConfigError(f"override {_show(item)}: key nested deeper than {MAX_DEPTH} levels")
        value = _override_value(item, raw, parts)
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {_show(item)}: {part!r} is not a mapping")
            node = child
        node[parts[-1]] = value
    return data


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
