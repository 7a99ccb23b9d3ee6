"""Property tests of `artifex validate` and `artifex build` on generated config files and ``--set`` strings.

Properties, for every generated input: no traceback in the output, exit code 0 or 2 (never the catch-all 1),
exit code 2 for every input built to be invalid, and every config that validate accepts builds (exit 0).
Generation is derandomized, so every run tries the same cases; each test asserts how many it tried.

Inputs: JSON, YAML and TOML files holding config-shaped mappings with plausible and wrong values, unicode,
huge and out-of-range numbers, inf and nan, YAML dates, sets and binary data, non-string keys, deep nesting
and corrupted bytes; and ``--set key=value`` strings, random or built from fields and YAML snippets.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unittest import mock

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from artifex_core.cli import app

runner = CliRunner()
COMMAND = typer.main.get_command(app)  # typer's CliRunner rebuilds it on every call: most of a validate's time
EXITS: Counter[tuple[str, int]] = Counter()

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

MODELS = ["vae", "beta_vae", "beta_vae_capacity", "conditional_vae", "vqvae"]
PARAMETERS = [
    "kl_weight", "beta_default", "beta_warmup_steps", "use_capacity_control", "capacity_max", "capacity_num_iter",
    "gamma", "num_embeddings", "embedding_dim", "commitment_cost", "use_ema", "ema_decay", "condition_dim",
    "condition_type", "reconstruction_loss_type",
]
KWARGS = ["precision", "flatten", "kernel_size", "spatial", "blocks_per_stage", "latent_dim", "rngs", "foo"]
FIELDS = [
    "model", "input_dim", "output_dim", "latent_dim", "hidden_dims", "decoder_hidden_dims", "activation", "encoder",
    "decoder", "encoder_kwargs", "decoder_kwargs", "conditional", "num_classes", "embed_dim", "parameters",
]


@dataclass(frozen=True)
class Raw:
    """A value written into the file as given text: things no JSON value serializes to.

    Attributes:
        text: Per format (``json``, ``yaml``, ``toml``), the literal to write.
        invalid: The file is invalid whatever the rest holds.
    """

    text: dict[str, str]
    invalid: bool = True


def _same(text: str) -> dict[str, str]:
    return {"json": text, "yaml": text, "toml": text}


BAD_RAW = [
    Raw(_same("7" * 5000)),
    Raw(_same("-" + "3" * 4400)),
    Raw(_same("123456789012345678901234567890")),
    Raw({"json": "NaN", "yaml": ".nan", "toml": "nan"}),
    Raw({"json": "Infinity", "yaml": ".inf", "toml": "inf"}),
    Raw({"json": "-1e999", "yaml": "-.inf", "toml": "-inf"}),
    Raw({"json": '"\\ud800"', "yaml": "2024-01-01", "toml": "2024-01-01"}),
    Raw({"json": '"\\udfff x"', "yaml": "2024-01-01 10:00:00", "toml": "1979-05-27T07:32:00Z"}),
    Raw({"json": "[" * 40 + "]" * 40, "yaml": "!!set {a, b}", "toml": "07:32:00"}),
    Raw({"json": "[" * 3000 + "]" * 3000, "yaml": "!!binary aGVsbG8=", "toml": "[" * 3000 + "]" * 3000}),
    Raw({"json": '{"a": ' * 50 + "1" + "}" * 50, "yaml": "{1: 2}", "toml": "{" + "a = {" * 40 + "b = 1" + "}" * 41}),
    Raw({"json": "[1, 2, 3", "yaml": "{null: 1}", "toml": "[1, 2"}),
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=9)
    | st.integers()
    | st.sampled_from([2**31, 2**40, 2**63 - 1, -(2**63) - 1, 2**64])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(MODELS + ["mlp", "cnn", "resnet", "conditional", "dense", "relu", "bce", "concat", "highest"])
)
values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12,
)
corruptions = st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=4))  # where, which bytes
dims = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3) | st.integers(min_value=-1, max_value=9)
plausible = {
    "model": st.sampled_from(MODELS) | st.text(max_size=10),
    "input_dim": dims,
    "output_dim": dims | st.none(),
    "latent_dim": st.integers(min_value=-1, max_value=6),
    "hidden_dims": st.lists(st.integers(min_value=0, max_value=4), max_size=2),
    "decoder_hidden_dims": st.lists(st.integers(min_value=1, max_value=4), max_size=2) | st.none(),
    "activation": st.sampled_from(["relu", "tanh", "gelu", "rellu"]),
    "encoder": st.sampled_from(["mlp", "cnn", "resnet", "conditional", "dense", "mpl"]),
    "decoder": st.sampled_from(["mlp", "cnn", "resnet", "conditional", "dense"]),
    "encoder_kwargs": st.dictionaries(st.sampled_from(KWARGS), scalars, max_size=2),
    "decoder_kwargs": st.dictionaries(st.sampled_from(KWARGS), scalars, max_size=2),
    "conditional": st.booleans(),
    "num_classes": st.integers(min_value=0, max_value=4) | st.none(),
    "embed_dim": st.integers(min_value=1, max_value=4),
    "parameters": st.dictionaries(st.sampled_from(PARAMETERS) | st.text(max_size=6), scalars, max_size=3),
}
config_like = st.fixed_dictionaries({}, optional={**plausible}).flatmap(
    lambda base: st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values | st.sampled_from(BAD_RAW),
                                 max_size=2).map(lambda extra: {**base, **extra})
)


def _has_bad(value: Any) -> bool:
    if isinstance(value, Raw):
        return value.invalid
    if isinstance(value, dict):
        return any(_has_bad(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_bad(v) for v in value)
    return False


def _float(value: float, fmt: str) -> str:
    if math.isnan(value):
        return {"json": "NaN", "yaml": ".nan", "toml": "nan"}[fmt]
    if math.isinf(value):
        sign = "-" if value < 0 else ""
        return sign + {"json": "Infinity", "yaml": ".inf", "toml": "inf"}[fmt]
    text = repr(value)
    return text if any(c in text for c in ".e") else text + ".0"


def _emit(value: Any, fmt: str) -> str:
    """``value`` as a flow literal of ``fmt`` (JSON text is YAML flow; TOML gets inline tables)."""
    if isinstance(value, Raw):
        return value.text[fmt]
    if value is None:
        return "null" if fmt != "toml" else '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value, fmt)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_emit(v, fmt) for v in value) + "]"
    sep = " = " if fmt == "toml" else ": "
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}{sep}{_emit(v, fmt)}" for k, v in value.items()) + "}"


def _document(cfg: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return _emit(cfg, "json")
    if fmt == "yaml":
        return "".join(f"{json.dumps(k, ensure_ascii=False)}: {_emit(v, 'yaml')}\n" for k, v in cfg.items())
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {_emit(v, 'toml')}\n" for k, v in cfg.items())


def _invoke(args: list[str]) -> Result:
    """Run the CLI in-process and check the properties every run has."""
    with mock.patch("typer.testing._get_command", lambda _: COMMAND):
        result = runner.invoke(app, args)
    EXITS[args[0], result.exit_code] += 1
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), f"exit {result.exit_code}: {result.output[-2000:]}"
    return result


def _run(test: Callable[[], None], minimum: int, seen: list[Any], label: str) -> None:
    EXITS.clear()
    start = time.perf_counter()
    test()
    elapsed = time.perf_counter() - start
    exits = ", ".join(f"{cmd} exit {code}: {n}" for (cmd, code), n in sorted(EXITS.items()))
    print(f"\n{label}: {len(seen)} generated inputs in {elapsed:.1f} s ({exits})")
    assert len(seen) >= minimum


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def test_generated_config_files(workdir: Path) -> None:
    seen: list[Any] = []

    @settings(FUZZ, max_examples=550)
    @given(cfg=config_like, fmt=st.sampled_from(["json", "yaml", "toml"]), corrupt=corruptions)
    def check(cfg: dict[str, Any], fmt: str, corrupt: tuple[float, bytes] | None) -> None:
        data = _document(cfg, fmt).encode("utf-8", "surrogatepass")
        if corrupt is not None:
            at = int(corrupt[0] * len(data))
            data = data[:at] + corrupt[1] + data[at:]
        path = workdir / f"generated.{fmt}"
        path.write_bytes(data)
        seen.append(cfg)
        result = _invoke(["validate", str(path)])
        if _has_bad(cfg) and corrupt is None:
            assert result.exit_code == 2, result.output

    _run(check, 500, seen, "config files")


def test_generated_set_strings(workdir: Path) -> None:
    seen: list[str] = []
    base = workdir / "base.yaml"
    base.write_text("model: beta_vae\ninput_dim: [6]\nlatent_dim: 2\nhidden_dims: [4]\n")
    keys = st.sampled_from(FIELDS) | st.sampled_from([f"parameters.{p}" for p in PARAMETERS] + ["encoder_kwargs.foo"])
    keys = keys | st.text(max_size=10)
    raw_values = st.sampled_from([r.text["yaml"] for r in BAD_RAW])
    text_values = values.map(lambda v: _emit(v, "yaml")) | st.text(max_size=20)

    good = st.sampled_from([
        ("latent_dim", "3"), ("hidden_dims", "[4, 2]"), ("parameters.beta_default", "2.5"), ("model", "vae"),
        ("parameters.beta_warmup_steps", "10"), ("input_dim", "[2, 3]"), ("encoder_kwargs.precision", "highest"),
        ("activation", "tanh"), ("parameters.reconstruction_loss_type", "bce"), ("decoder_hidden_dims", "[3]"),
    ])
    item = good | good | st.tuples(keys, text_values | raw_values) | st.text(max_size=20)

    @settings(FUZZ, max_examples=450)
    @given(items=st.lists(item, min_size=1, max_size=3))
    def check(items: list[tuple[str, str] | str]) -> None:
        sets = [i if isinstance(i, str) else f"{i[0]}={i[1]}" for i in items]
        args = ["validate", str(base)]
        for item in sets:
            args += ["--set", item]
        seen.append(sets)
        result = _invoke(args)
        raws = {r.text["yaml"] for r in BAD_RAW}
        if any(not isinstance(i, str) and i[1] in raws for i in items):
            assert result.exit_code == 2, result.output

    _run(check, 400, seen, "--set strings")


def _buildable_configs() -> st.SearchStrategy[tuple[dict[str, Any], bool]]:
    """Tiny configs that avoid the gaps validate cannot see yet (see test_validate_builds.py), plus mistakes.

    Conv encoders and decoders get (H, W, C) shapes and at least one hidden layer; ``spatial`` is left out
    (encoder and decoder must agree on it) and so is ``condition_dim``. Mistakes validate must catch:
    an unknown or factory-owned kwarg, an output_dim of another size, conditional=true on a model without
    condition, a wrapper as encoder.
    """
    mistakes = st.sampled_from([
        None, None, None, None, None, None,
        ("encoder_kwargs", {"foo": 1}), ("decoder_kwargs", {"latent_dim": 2}), ("output_dim", [5]),
        ("conditional", True), ("encoder", "conditional"), ("parameters", {"beta_warmup_steps": 2**40}),
    ])

    @st.composite
    def build(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
        model = draw(st.sampled_from(MODELS))
        conv = draw(st.sampled_from(["mlp", "mlp", "cnn", "resnet"]))
        latent = draw(st.sampled_from([2, 4]))
        cfg: dict[str, Any] = {"model": model, "latent_dim": latent, "hidden_dims": [draw(st.integers(1, 4))],
                               "activation": draw(st.sampled_from(["relu", "tanh"]))}
        if conv == "mlp":
            cfg["input_dim"] = draw(st.sampled_from([[6], [2, 3], [2, 2, 1]]))
            if draw(st.booleans()):
                cfg["output_dim"] = draw(st.sampled_from([[math.prod(cfg["input_dim"])], [1, *cfg["input_dim"]]]))
            cfg["encoder_kwargs"] = draw(st.sampled_from([{}, {"precision": "highest"}]))
        else:
            cfg.update(input_dim=[4, 4, 1], encoder=conv, decoder=draw(st.sampled_from([conv, "mlp"])))
            extra = {"kernel_size": draw(st.integers(1, 3))}
            if conv == "resnet":
                extra["blocks_per_stage"] = 1
            cfg["encoder_kwargs"] = {**extra, **draw(st.sampled_from([{}, {"flatten": True}]))}
            if cfg["decoder"] != "mlp":
                cfg["decoder_kwargs"] = extra
        if model == "vqvae":
            cfg["parameters"] = {"num_embeddings": 4, "embedding_dim": draw(st.sampled_from([1, 2]))}
        elif model == "beta_vae_capacity":
            cfg["parameters"] = {"use_capacity_control": draw(st.booleans()), "capacity_num_iter": 10}
        elif model == "beta_vae":
            cfg["parameters"] = {"beta_default": draw(st.floats(0, 8)), "reconstruction_loss_type": "bce"}
        if model == "conditional_vae":
            cfg.update(num_classes=draw(st.integers(1, 3)), embed_dim=2)
        mistake = draw(mistakes)
        if mistake is not None:
            key, value = mistake
            cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
            if key == "conditional":
                cfg.setdefault("num_classes", 2)
                cfg["model"] = "vae"
        return cfg, mistake is not None

    return build()


def test_what_validate_accepts_builds(workdir: Path) -> None:
    seen: list[dict[str, Any]] = []
    built: list[dict[str, Any]] = []

    @settings(FUZZ, max_examples=16)
    @given(case=_buildable_configs(), fmt=st.sampled_from(["json", "yaml", "toml"]))
    def check(case: tuple[dict[str, Any], bool], fmt: str) -> None:
        cfg, mistaken = case
        path = workdir / f"buildable.{fmt}"
        path.write_text(_document(cfg, fmt))
        seen.append(cfg)
        result = _invoke(["validate", str(path)])
        assert result.exit_code == (2 if mistaken else 0), (cfg, result.output)
        if result.exit_code == 0:
            built.append(cfg)
            result = _invoke(["build", "--config", str(path), "--json"])
            assert result.exit_code == 0, (cfg, result.output)

    _run(check, 12, seen, "buildable configs")
    print(f"buildable configs: {len(built)} accepted by validate and built")
    assert len(built) >= 6
