"""Checkpoints (keep-N and best, keys, atomic folders), run folders, TrainConfig, optimizers and schedules."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from pydantic import ValidationError

from artifex_core import ModelConfig
from artifex_core.training import Checkpointer, RunDir, RunDirError, TrainConfig
from artifex_core.training import compile_cache_disabled, enable_compile_cache
from artifex_core.training import TrainConfigError
from artifex_core.training import make_optimizer, make_schedule


def test_checkpoints_keep_the_last_n_and_the_best(tmp_path: Path) -> None:
    losses = {1: 5.0, 2: 1.0, 3: 4.0, 4: 6.0, 5: 7.0}
    with Checkpointer(tmp_path / "ckpt", keep=2) as ckpt:
        for epoch, loss in losses.items():
            ckpt.save(epoch, {"w": jnp.full(3, float(epoch))}, {"epoch": epoch}, metric=loss)
        assert ckpt.epochs() == [2, 4, 5] and ckpt.best_epoch() == 2 and ckpt.latest_epoch() == 5
        state, meta = ckpt.restore(2, {"w": jnp.zeros(3)})
        assert state["w"].tolist() == [2.0, 2.0, 2.0] and meta == {"epoch": 2}
        with pytest.raises(FileNotFoundError, match=r"no checkpoint 3 .*have: \[2, 4, 5\]"):
            ckpt.restore(3, {"w": jnp.zeros(3)})
    with Checkpointer(tmp_path / "ckpt", keep=2) as reopened:  # the best survives a restart
        assert reopened.best_epoch() == 2 and reopened.read_meta(5) == {"epoch": 5}
    leftovers = [p.name for p in (tmp_path / "ckpt").iterdir() if not p.name.isdigit()]
    assert not [name for name in leftovers if "tmp" in name.lower()], leftovers  # atomic: no half-written folders


def test_checkpoints_round_trip_typed_keys_and_optimizer_state(tmp_path: Path) -> None:
    params = {"w": jnp.arange(4.0)}
    tx = optax.adam(1e-3)
    opt_state = tx.update(params, tx.init(params), params)[1]
    key = jax.random.split(jax.random.key(7))[1]
    state = {"params": params, "rest": {"key": key, "count": jnp.uint32(3)}, "opt_state": opt_state}
    with Checkpointer(tmp_path, keep=1) as ckpt:
        ckpt.save(1, state, {"epoch": 1})
        template = jax.tree.map(jnp.zeros_like, {**state, "rest": {"key": jax.random.key(0), "count": jnp.uint32(0)}})
        restored, _ = ckpt.restore(1, template)
    assert jnp.issubdtype(restored["rest"]["key"].dtype, jax.dtypes.prng_key)
    np.testing.assert_array_equal(jax.random.key_data(restored["rest"]["key"]), jax.random.key_data(key))
    np.testing.assert_array_equal(restored["opt_state"][0].mu["w"], opt_state[0].mu["w"])
    assert int(restored["opt_state"][0].count) == 1 and int(restored["rest"]["count"]) == 3


def test_run_dir_config_and_metrics(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    with pytest.raises(RunDirError, match="does not exist"):
        run.read_config()
    run.path.mkdir()
    with pytest.raises(RunDirError, match="is not a run folder: it has no config.json"):
        run.read_config()
    run.write_config({"model": {"model": "vae"}, "train": {"epochs": 1}})
    assert run.read_config()["train"] == {"epochs": 1} and run.exists() and not run.has_checkpoints()
    run.append_metrics({"epoch": 1, "test": {"loss": float("nan")}})
    with run.metrics_path.open("a") as f:
        f.write('{"epoch": 2, "tor')  # a line torn by a crash
    assert run.read_metrics() == [{"epoch": 1, "test": {"loss": "nan"}}]
    (run.path / "config.json").write_text("[1, 2]")
    with pytest.raises(RunDirError, match="must hold 'model' and 'train' mappings"):
        run.read_config()


def test_train_config_validation() -> None:
    with pytest.raises(ValidationError, match="warmup_steps: must be positive"):
        TrainConfig(schedule="warmup_cosine")
    with pytest.raises(ValidationError) as info:
        TrainConfig(optimizer="adamm", epochs=0)
    assert {e["loc"][0] for e in info.value.errors()} == {"optimizer", "epochs"}
    cfg = TrainConfig()
    with pytest.raises(ValidationError):
        cfg.epochs = 3  # type: ignore[misc]  # frozen
    bce, mse = (ModelConfig(parameters={"reconstruction_loss_type": loss}) for loss in ("bce", "mse"))
    assert cfg.resolved_binarize(bce) == "dynamic" and cfg.resolved_binarize(mse) == "none"
    assert cfg.resolved_binarize(None) == "none"  # auto without a model config: nothing declares binary data
    assert TrainConfig(binarize="fixed").resolved_binarize(mse) == "fixed"


def test_schedules() -> None:
    const = make_schedule(TrainConfig(lr=0.1), 100)
    assert float(const(0)) == float(const(99)) == pytest.approx(0.1)
    cos = make_schedule(TrainConfig(lr=0.1, schedule="cosine", final_lr_factor=0.1), 100)
    assert float(cos(0)) == pytest.approx(0.1) and float(cos(50)) == pytest.approx(0.055)
    assert float(cos(100)) == pytest.approx(0.01)
    warm = make_schedule(TrainConfig(lr=0.1, schedule="warmup_cosine", warmup_steps=10), 110)
    assert float(warm(5)) == pytest.approx(0.05) and float(warm(10)) == pytest.approx(0.1)
    assert float(warm(110)) == pytest.approx(0.0, abs=1e-9)


def test_optimizers_by_name_with_clipping_and_kwargs() -> None:
    params = {"w": jnp.array([3.0, 4.0])}
    grads = {"w": jnp.array([30.0, 40.0])}  # norm 50
    sgd = make_optimizer(TrainConfig(optimizer="sgd", lr=1.0, grad_clip=5.0), 10)
    updates, _ = sgd.update(grads, sgd.init(params), params)
    np.testing.assert_allclose(updates["w"], [-3.0, -4.0], rtol=1e-6)  # clipped to norm 5, then -lr * g
    for name in ("adam", "adamw", "rmsprop", "lion"):
        tx = make_optimizer(TrainConfig(optimizer=name), 10)
        assert jax.tree.leaves(tx.update(grads, tx.init(params), params)[0])
    adamw = make_optimizer(TrainConfig(optimizer="adamw", weight_decay=0.5, optimizer_kwargs={"b1": 0.5}), 10)
    assert adamw.init(params) is not None
    with pytest.raises(TrainConfigError, match=r"optimizer_kwargs: 'adam' does not take momentum"):
        make_optimizer(TrainConfig(optimizer_kwargs={"momentum": 0.9}), 10)


def test_compile_cache_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFEX_NO_COMPILE_CACHE", "1")
    assert compile_cache_disabled() and enable_compile_cache(tmp_path / "off") is None
    assert not (tmp_path / "off").exists()
    monkeypatch.setenv("ARTIFEX_NO_COMPILE_CACHE", "0")
    assert not compile_cache_disabled()
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(tmp_path / "cache"))
    previous = jax.config.jax_compilation_cache_dir
    try:
        folder = enable_compile_cache()
        assert folder == tmp_path / "cache" / "jax" and folder.is_dir()
        assert jax.config.jax_compilation_cache_dir == str(folder)
        jax.jit(lambda x: x * 3 + 1)(jnp.arange(5.0)).block_until_ready()
        assert any(os.scandir(folder))  # the compiled program was written
    finally:
        if previous:
            enable_compile_cache(previous)
