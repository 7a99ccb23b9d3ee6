"""The automatic XLA:CPU flags: the choice per model family, the user's XLA_FLAGS and the switch off, and
(in fresh processes, where XLA reads the flags) that ``artifex train`` records the choice and that it changes
a tiny conv VAE's loss and gradients by no more than float32 reassociation does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from artifex_core import XLA_TUNING_ENV, ModelConfig, XlaTuning, last_xla_tuning, tune_xla, xla_flags_for
from artifex_core import _xla_tuning
from artifex_core._xla_tuning import combine_flags, jaxlib_in_range

YNN = "--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce"
YNN_REDUCE = "--xla_cpu_experimental_ynn_fusion_type=reduce"
LOSS_RTOL, GRAD_RTOL = 1e-5, 1e-4  # float32 reassociation bounds, justified in benchmarks/xla_flags.py


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xla_tuning, "_SET_BY_US", None)
    monkeypatch.setattr(_xla_tuning, "_LAST", None)
    monkeypatch.setattr(_xla_tuning, "_jax_started", lambda: False)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("mlp", ()),
        ("cnn", (YNN,)),
        ("resnet", (YNN_REDUCE,)),
        ({"encoder": "cnn", "decoder": "resnet"}, (YNN,)),  # one flag's values united
        ({}, ()),  # the default MLP VAE
        ({"model": "vqvae", "encoder": "mlp", "decoder": "mlp"}, ()),
        ({"model": "vae", "encoder": "cnn", "decoder": "cnn"}, (YNN,)),
        ({"encoder": "mlp", "decoder": "cnn"}, (YNN,)),  # one convolutional half is enough
        ({"encoder": "dense", "decoder": "dense"}, ()),  # an alias of mlp
        ({"encoder": "no_such_encoder"}, ()),  # the planner reports unknown names; tuning just skips them
    ],
)
def test_choice_per_family(config: object, expected: tuple[str, ...]) -> None:
    assert xla_flags_for(config)[0] == expected


def test_sources_name_the_entries() -> None:
    _, sources, notes = xla_flags_for({"encoder": "mlp", "decoder": "cnn"})
    assert sources == {"decoders:cnn": [YNN]} and notes == []


def test_flags_outside_the_measured_jaxlib_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xla_tuning, "_installed_jaxlib", lambda: "0.11.0")
    flags, sources, notes = xla_flags_for("cnn")
    assert flags == () and sources == {}
    assert len(notes) == 2 and "installed 0.11.0: skipped" in notes[0]


def test_combine_unites_values_of_one_flag() -> None:
    assert combine_flags(["--a=dot", "--b=1"], ["--a=eltwise,dot", "--c"]) == ("--a=dot,eltwise", "--b=1", "--c")
    assert combine_flags([YNN], [YNN]) == (YNN,)


@pytest.mark.parametrize(
    ("spec", "version", "ok"),
    [(">=0.10.2,<0.11", "0.10.2", True), (">=0.10.2,<0.11", "0.10.10", True), (">=0.10.2,<0.11", "0.11.0", False),
     (">=0.10.2", "0.9.9", False), ("==0.10.2", "0.10.2", True), (">0.10.2", "0.10.2", False)],
)
def test_jaxlib_range(spec: str, version: str, ok: bool) -> None:
    assert jaxlib_in_range(spec, version) is ok


def test_jaxlib_range_rejects_unknown_operator() -> None:
    with pytest.raises(ValueError, match=r"'~=0.10' is not one of"):
        jaxlib_in_range("~=0.10", "0.10.2")


def test_auto_sets_xla_flags() -> None:
    env: dict[str, str] = {}
    decision = tune_xla("cnn", environ=env)
    assert env["XLA_FLAGS"] == YNN
    assert (decision.mode, decision.flags, decision.applied) == ("auto", (YNN,), True)
    assert last_xla_tuning() is decision
    assert decision.as_record() == {
        "mode": "auto", "flags": [YNN], "applied": True,
        "sources": {"encoders:cnn": [YNN], "decoders:cnn": [YNN]}, "notes": [],
    }
    assert decision.describe() == f"XLA flags (auto, from encoders:cnn, decoders:cnn): {YNN}"


def test_mlp_sets_nothing_and_takes_back_our_earlier_flags() -> None:
    env: dict[str, str] = {}
    tune_xla("cnn", environ=env)
    decision = tune_xla("mlp", environ=env)  # ours from the first call: not the user's, removed
    assert "XLA_FLAGS" not in env
    assert (decision.mode, decision.flags, decision.applied) == ("auto", (), False)


def test_user_xla_flags_win() -> None:
    env = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    decision = tune_xla("cnn", environ=env)
    assert env["XLA_FLAGS"] == "--xla_cpu_enable_fast_math=false"
    assert (decision.mode, decision.flags) == ("user", ("--xla_cpu_enable_fast_math=false",))
    assert "no tuning" in decision.describe()


@pytest.mark.parametrize("how", ["argument", "env"])
def test_switched_off(how: str) -> None:
    env = {XLA_TUNING_ENV: "off"} if how == "env" else {}
    decision = tune_xla("cnn", enabled=how != "argument", environ=env)
    assert "XLA_FLAGS" not in env
    assert decision == XlaTuning("off")


def test_too_late_once_jax_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xla_tuning, "_jax_started", lambda: True)
    env: dict[str, str] = {}
    decision = tune_xla("cnn", environ=env)
    assert "XLA_FLAGS" not in env and decision.applied is False
    assert decision.describe().endswith("[not applied: JAX was already running]")


@pytest.mark.parametrize("config", [{}, None, {"model": None, "encoder": "", "decoder": None}], ids=repr)
def test_missing_names_are_model_configs_defaults(config: object) -> None:
    default = ModelConfig()
    assert _xla_tuning._names(config) == {
        "models": default.model, "encoders": default.encoder, "decoders": default.decoder
    }


def test_given_names_win_over_the_defaults() -> None:
    names = _xla_tuning._names({"encoder": "cnn"})
    assert names == {"models": ModelConfig().model, "encoders": "cnn", "decoders": ModelConfig().decoder}
    assert _xla_tuning._names(ModelConfig(decoder="cnn"))["decoders"] == "cnn"
    assert _xla_tuning._names("cnn") == {"encoders": "cnn", "decoders": "cnn"}


# -- in fresh processes: XLA reads XLA_FLAGS when JAX starts ------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFEX_") and k != "XLA_FLAGS"}
    env.update(ARTIFEX_DISABLE_PLUGINS="artifex-brokenplugin", **extra)
    return env


def test_choosing_flags_imports_no_jax() -> None:
    code = (
        "import sys\nimport artifex_core._xla_tuning as t\n"
        "t.xla_flags_for({}); t.xla_flags_for('cnn')\n"
        "print('JAX' if any(m in sys.modules for m in ('jax', 'jaxlib', 'flax')) else 'NOJAX')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "NOJAX"


TINY_CONV = ["-s", "encoder=cnn", "-s", "decoder=cnn", "-s", "hidden_dims=[4,8]", "-s", "latent_dim=2"]


def _train(out: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "artifex_core.cli", "train", *TINY_CONV, "--epochs", "1", "--limit", "64",
           "--batch-size", "32", "--out", str(out), "--no-compile-cache", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(**env), timeout=600)


@pytest.mark.parametrize(
    ("args", "env", "record", "printed"),
    [
        (["--verbose"], {}, {"mode": "auto", "flags": [YNN], "applied": True}, "XLA flags (auto, from encoders:cnn"),
        (["--verbose", "--no-xla-tuning"], {}, {"mode": "off", "flags": [], "applied": False}, "tuning off"),
        (["--verbose"], {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false"},
         {"mode": "user", "flags": ["--xla_cpu_enable_fast_math=false"], "applied": True}, "user's XLA_FLAGS"),
    ],
    ids=["auto", "no-xla-tuning", "user-flags"],
)
def test_train_records_the_choice(tmp_path: Path, args: list[str], env: dict[str, str], record: dict[str, object],
                                  printed: str) -> None:
    result = _train(tmp_path / "run", *args, **env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert printed in result.stderr
    xla = json.loads((tmp_path / "run" / "config.json").read_text())["xla"]
    assert {k: xla[k] for k in record} == record


_GRADS = """
import json, sys
import artifex_core
print(json.dumps(artifex_core.tune_xla(sys.argv[1]).as_record()), file=sys.stderr)
import jax, jax.numpy as jnp, numpy as np
from flax import nnx
from artifex_core import ModelConfig, create_model
cfg = ModelConfig(model="vae", input_dim=(28, 28, 1), encoder=sys.argv[1], decoder=sys.argv[1], hidden_dims=[8, 16], latent_dim=4)
model = create_model(cfg, rngs=nnx.Rngs(0))
model.train()
graphdef, params, rest = nnx.split(model, nnx.Param, ...)
x = (np.random.default_rng(0).random((16, 28, 28, 1)) > 0.5).astype(np.float32)

@jax.jit
def value_and_grad(p, r):
    return jax.value_and_grad(lambda q: nnx.merge(graphdef, q, r, copy=True).loss_fn(batch=jnp.asarray(x), step=0)["loss"])(p)

loss, grads = value_and_grad(params, rest)
print(json.dumps({"loss": float(loss), "grads": [np.asarray(g, np.float64).ravel().tolist() for g in jax.tree.leaves(grads)]}))
"""


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_automatic_choice_keeps_loss_and_gradients(tmp_path: Path, family: str) -> None:
    runs = {}
    for name, env in (("tuned", {}), ("default", {XLA_TUNING_ENV: "off"})):
        proc = subprocess.run([sys.executable, "-c", _GRADS, family], capture_output=True, text=True, env=_env(**env), timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        record = json.loads(next(ln for ln in proc.stderr.splitlines() if ln.startswith("{")))
        assert record["mode"] == ("auto" if name == "tuned" else "off")
        assert bool(record["flags"]) == (name == "tuned")  # the tuned run really ran with flags
        runs[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    import numpy as np

    tuned, default = runs["tuned"], runs["default"]
    assert abs(tuned["loss"] - default["loss"]) <= LOSS_RTOL * abs(default["loss"])
    assert len(tuned["grads"]) == len(default["grads"]) > 4
    for g, g0 in zip(tuned["grads"], default["grads"], strict=True):
        g, g0 = np.asarray(g), np.asarray(g0)
        assert np.linalg.norm(g - g0) <= GRAD_RTOL * np.linalg.norm(g0)


def test_evaluate_tunes_for_the_runs_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from artifex_core.cli._evaluate_cmds import _tune_xla_for_run

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": {"model": "vae", "encoder": "cnn", "decoder": "cnn"}, "train": {}}))
    monkeypatch.setenv("XLA_FLAGS", "placeholder")  # restored by monkeypatch after the test
    monkeypatch.delenv("XLA_FLAGS")
    _tune_xla_for_run(run, True)
    assert os.environ.get("XLA_FLAGS") == YNN and last_xla_tuning().mode == "auto"
    _tune_xla_for_run(run, False)  # --no-xla-tuning: our flags taken back
    assert "XLA_FLAGS" not in os.environ and last_xla_tuning().mode == "off"
    _tune_xla_for_run(tmp_path / "missing", True)  # not a run folder: nothing decided (loading reports it)
    assert last_xla_tuning().mode == "off"
