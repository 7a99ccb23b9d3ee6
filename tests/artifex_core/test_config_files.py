"""Config files and ``--set`` values: anything but plain JSON values is a ConfigError naming file and field.

Every case here used to end in the CLI's catch-all ``error: <Type>: ...`` with exit code 1 (or to be
accepted, for inf and nan).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from artifex_core import ConfigError
from artifex_core.cli import app
from artifex_core import apply_overrides, read_config_file
from artifex_core._config_values import MAX_DEPTH
from artifex_core.training._overrides import apply_sets

runner = CliRunner()
BIG = "7" * 5000
_NOT_JSON = (
    "is not a JSON value (allowed: strings, finite numbers, true/false, null, lists and mappings with string keys)"
)
_BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(  # 10**6 values through aliases, in 6 lines
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n" for prev, name in zip("abcde", "bcdef")
)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.yaml", b"model: vae\nlatent_dim: 2\n\xff\xfe: 1\n",
         "is not UTF-8 text: byte 0xff at line 3, column 1 (save it as UTF-8)"),
        ("m.yaml", "model: beta_vae\nparameters:\n  beta_default: 2024-01-01\n",
         f": parameters.beta_default: a date (2024-01-01) {_NOT_JSON}"),
        ("m.yaml", "parameters:\n  when: 2024-01-01 10:00:00\n",
         ": parameters.when: a timestamp (2024-01-01T10:00:00)"),
        ("m.toml", '[parameters]\nkl_weight = 1979-05-27T07:32:00Z\n',
         ": parameters.kl_weight: a timestamp (1979-05-27T07:32:00+00:00) is not a JSON value"),
        ("m.toml", "[parameters]\nkl_weight = 07:32:00\n",
         ": parameters.kl_weight: a time (07:32:00) is not a JSON value"),
        ("m.yaml", "parameters: !!set {a, b}\n", f": parameters: a set {_NOT_JSON}"),
        ("m.yaml", "parameters:\n  x: !!binary aGVsbG8=\n", f": parameters.x: binary data {_NOT_JSON}"),
        ("m.yaml", "parameters:\n  1: x\n", ": parameters: key 1 (type int) is not a string (quote it)"),
        ("m.yaml", "on: 1\n", ": key True (type bool) is not a string (quote it)"),
        ("m.yaml", "2024-01-01: 1\n", ": key a date (2024-01-01) (type date) is not a string (quote it)"),
        ("m.json", '{"parameters": {"x": ' + "[" * 40 + "]" * 40 + "}}",
         f": parameters.x{'[0]' * 30}: nested deeper than {MAX_DEPTH} levels"),
        ("m.json", '{"parameters": ' + "[" * 5000 + "]" * 5000 + "}",
         f": nested too deep to parse (at most {MAX_DEPTH} levels)"),
        ("m.yaml", "a:\n" + "".join("  " * i + " b:\n" for i in range(1, 1500)), ": nested too deep to parse"),
        ("m.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n", ": nested too deep to parse"),
        ("m.yaml", "parameters: &x\n  a: *x\n", ": parameters.a.a.a"),  # a cycle through an alias
        ("m.json", '{"latent_dim": ' + BIG + "}",
         ": latent_dim: an integer of 5000 digits is out of range (at most 9223372036854775807 in magnitude)"),
        ("m.yaml", "latent_dim: " + BIG + "\n", ": latent_dim: an integer of 5000 digits is out of range"),
        ("m.toml", 'model = "vae"\nlatent_dim = ' + BIG + "\n", ": line 2: an integer of 5000 digits is out of range"),
        ("m.json", '{"parameters": {"x": [1, 99999999999999999999]}}',
         ": parameters.x[1]: 99999999999999999999 is out of range (at most 9223372036854775807 in magnitude)"),
        ("m.json", '{"parameters": {"kl_weight": NaN}}',
         ": parameters.kl_weight: nan is not a finite number (JSON has no inf or nan)"),
        ("m.json", '{"parameters": {"kl_weight": 1e999}}', ": parameters.kl_weight: inf is not a finite number"),
        ("m.yaml", "parameters:\n  kl_weight: -.inf\n", ": parameters.kl_weight: -inf is not a finite number"),
        ("m.toml", "[parameters]\nkl_weight = nan\n", ": parameters.kl_weight: nan is not a finite number"),
        ("m.json", '{"model": "\\ud800"}',
         ": model: the string '\\ud800' is not valid Unicode (it holds a lone surrogate)"),
        ("m.yaml", "parameters:\n  x: 2024-13-45\n", " could not be parsed: month must be in 1..12"),
        ("m.yaml", _BOMB, ": holds more than 100000 values (YAML aliases are counted each time they are used)"),
    ],
)
def test_bad_files_are_config_errors_naming_file_and_field(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(ConfigError) as info:
        read_config_file(path)
    assert str(info.value).startswith(f"config file {str(path)!r}")
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"error: config file {str(path)!r}" in result.stderr and "Traceback" not in result.output


def test_parse_errors_are_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.yaml", "a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError, match="could not be parsed") as info:
        read_config_file(path)
    assert "\n" not in str(info.value)


def test_good_files_still_read_and_a_bom_is_fine(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.json", b'\xef\xbb\xbf{"model": "vae", "input_dim": [4], "parameters": {"kl_weight": 1}}')
    assert read_config_file(path) == {"model": "vae", "input_dim": [4], "parameters": {"kl_weight": 1}}
    path = _write(tmp_path, "m.yaml", "name: \"2024-01-01\"\npairs: !!omap [{a: 1}]\nbig: 9223372036854775807\n")
    assert read_config_file(path) == {"name": "2024-01-01", "pairs": [["a", 1]], "big": 2**63 - 1}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("parameters.beta_default=2024-01-01",
         f"parameters.beta_default: a date (2024-01-01) {_NOT_JSON} (quote the value to pass a string)"),
        ("latent_dim=" + BIG, "latent_dim: an integer of 5000 digits is out of range"),
        ("parameters.x=" + "9" * 30, "parameters.x: 999999999999999999999999999999 is out of range"),
        ("parameters.beta_default=.nan", "parameters.beta_default: nan is not a finite number"),
        ("parameters.x=!!binary aGVsbG8=", "parameters.x: binary data is not a JSON value"),
        ("parameters.x=" + "[" * 3000, "nested too deep to parse"),
        ("parameters.x=" + "[" * 40 + "]" * 40, f"nested deeper than {MAX_DEPTH} levels"),
        (".".join(["a"] * 40) + "=1", f"key nested deeper than {MAX_DEPTH} levels"),
        ("parameters={1: 2}", "parameters: key 1 (type int) is not a string"),
        ("parameters.x=2024-13-45", "month must be in 1..12 (quote the value to pass a string)"),
        ("a..b=1", "key 'a..b' has an empty part"),
    ],
)
def test_bad_set_values_are_config_errors_naming_the_field(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides({"model": "beta_vae"}, [override])
    assert str(info.value).startswith("override '") and message in str(info.value)
    path = _write(tmp_path, "m.yaml", "model: beta_vae\ninput_dim: [8]\n")
    result = runner.invoke(app, ["validate", str(path), "--set", override])
    assert result.exit_code == 2 and message in result.stderr, result.output
    result = runner.invoke(app, ["build", "--config", str(path), "--set", override])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_set_values_that_are_json_still_apply() -> None:
    assert apply_overrides({}, ["a='2024-01-01'", "b=[1, {c: null}]", "d=not: valid: yaml", "e="]) == {
        "a": "2024-01-01", "b": [1, {"c": None}], "d": "not: valid: yaml", "e": ""
    }


def test_train_sets_get_the_same_checks() -> None:
    with pytest.raises(ConfigError, match=r"lr: inf is not a finite number"):
        apply_sets({}, {}, ["lr=.inf"])
    with pytest.raises(ConfigError, match=r"train\.seed: an integer of 5000 digits is out of range"):
        apply_sets({}, {}, ["train.seed=" + BIG])
    with pytest.raises(ConfigError, match=r"model\.parameters\.when: a date \(2024-01-01\)"):
        apply_sets({}, {}, ["model.parameters.when=2024-01-01"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("model: vae\ntrain:\n  lr: .inf\n", ": train.lr: inf is not a finite number"),
        ("model: vae\nepochs: 2024-01-01\n", ": epochs: a date (2024-01-01) is not a JSON value"),
        ("model: vae\ntrain:\n  seed: " + BIG + "\n", ": train.seed: an integer of 5000 digits is out of range"),
    ],
)
def test_train_config_files_get_the_same_checks(tmp_path: Path, content: str, message: str) -> None:
    path = _write(tmp_path, "m.yaml", content)
    result = runner.invoke(app, ["train", "--config", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert f"error: config file {str(path)!r}{message}" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_train_set_values_get_the_same_checks(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--set", "lr=.nan", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "override 'lr=.nan': lr: nan is not a finite number" in result.stderr
