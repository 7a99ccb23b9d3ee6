"""Config sources: reading a JSON, YAML or TOML file and applying ``key=value`` (``--set``) overrides.

Both give plain JSON values only, checked by :func:`~artifex_core._config_values.json_clean`; every
problem (a missing file, text that is not UTF-8, a parse error, a value that is not JSON) is a
:class:`~artifex_core.ConfigError` naming the file or the override and, where there is one, the field.

Example:
    >>> apply_overrides({}, ["model=beta_vae", "hidden_dims=[64, 32]"])
    {'model': 'beta_vae', 'hidden_dims': [64, 32]}
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from artifex_core._config_values import (
    INT64_MAX,
    MAX_DEPTH,
    ConfigError,
    LongInt,
    int_digit_limit,
    json_clean,
    show,
)

__all__ = ["MAX_FILE_BYTES", "apply_overrides", "read_config_file"]

MAX_FILE_BYTES = 16 * 2**20
"""Largest config file read."""


class _YamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that turns integer literals too long to convert into :class:`~artifex_core._config_values.LongInt`."""


def _yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    limit = int_digit_limit()
    digits = sum(ch.isdigit() for ch in text)
    if limit is not None and digits > limit:
        return LongInt(digits)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_YamlLoader.add_constructor("tag:yaml.org,2002:int", _yaml_int)


def _json_int(text: str) -> Any:
    limit = int_digit_limit()
    digits = len(text.lstrip("-"))
    return LongInt(digits) if limit is not None and digits > limit else int(text)


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
        limit = int_digit_limit()
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
    return json_clean(data, where)


def _override_value(item: str, raw: str, path: tuple[str, ...]) -> Any:
    """The YAML value of one override, checked like a config file's values (unparsable YAML stays a string)."""
    where = f"override {show(item)}"
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
        return json_clean(value, where, path)
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
    data = json_clean(data, "config")
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {show(item)} must look like key=value")
        parts = tuple(part.strip() for part in key.strip().split("."))
        if not all(parts):
            raise ConfigError(f"override {show(item)}: key {show(key.strip())} has an empty part")
        if len(parts) > MAX_DEPTH:
            raise ConfigError(f"override {show(item)}: key nested deeper than {MAX_DEPTH} levels")
        value = _override_value(item, raw, parts)
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {show(item)}: {part!r} is not a mapping")
            node = child
        node[parts[-1]] = value
    return data
