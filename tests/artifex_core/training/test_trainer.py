"""The trainer on tiny data: learning, carried state, reproducibility, resume, NaN guard, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from toy_vae import ToyVAE, fit, params_of

from artifex_core.training import Callback, NonFiniteLossError, RunDir, Trainer
from artifex_core.training import FitResult


def without_times(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.endswith("_s")}


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ToyVAE, Trainer, FitResult]:
    """The uninterrupted reference run: seed 0, 3 epochs of 8 steps, keeping 1 checkpoint (+ the best)."""
    path = tmp_path_factory.mktemp("full")
    return (path, *fit(path, keep_checkpoints=1))


def test_loss_decreases_and_non_param_state_is_carried(full: tuple[Path, ToyVAE, Trainer, FitResult]) -> None:
    _, model, trainer, result = full
    losses = [r["train"]["loss"] for r in result.history]
    assert losses[-1] < losses[0] - 1.0, losses
    assert result.history[-1]["test"]["loss"] < result.history[0]["test"]["loss"]
    assert trainer.binarize == "dynamic"  # as BASE says (the toy's likelihood is bce)
    # the Seen counter is mutated inside the jitted step (train mode only, never by evaluation)
    assert int(model.seen[...]) == 3 * trainer.steps_per_epoch * 32
    assert result.history[-1]["step"] == 3 * 8
    beta = result.history[0]["train"]["beta"]  # the step reaches loss_fn: beta = min(1, step / 10)
    assert beta == pytest.approx(np.mean(np.minimum(1.0, np.arange(8) / 10.0)), abs=1e-6)
    assert result.history[0]["test"]["beta"] == 1.0  # evaluation runs with every schedule finished


def test_run_folder_metrics_and_checkpoints(full: tuple[Path, ToyVAE, Trainer, FitResult]) -> None:
    tmp_path, _, _, result = full
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3]
    for r in lines:
        assert {"loss", "reconstruction_loss", "kl_loss", "grad_norm"} <= set(r["train"])
        assert {"loss", "reconstruction_loss", "kl_loss"} <= set(r["test"])
        assert "recon_loss" not in r["train"] and "total_loss" not in r["train"]  # aliases dropped
        assert r["examples_per_s"] > 0 and r["epoch_time_s"] > 0 and r["lr"] == pytest.approx(1e-3)
    kept = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
    best = min(lines, key=lambda r: r["test"]["loss"])["epoch"]
    assert kept == sorted({3, best}) and result.best_epoch == best


def test_same_seed_same_numbers_other_seed_other_numbers(full: tuple[Path, ToyVAE, Trainer, FitResult]) -> None:
    _, a_model, _, a = full
    b_model, _, b = fit(None)  # same seed, no run folder
    assert [without_times(r) for r in a.history] == [without_times(r) for r in b.history]
    for x, y in zip(params_of(a_model), params_of(b_model), strict=True):
        np.testing.assert_array_equal(x, y)
    _, _, c = fit(None, seed=5, epochs=1)
    assert a.history[0]["train"]["loss"] != c.history[0]["train"]["loss"]


class Interrupt(Exception):
    pass


class InterruptAt(Callback):
    """Raise in the middle of training, as a crash would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_log(self, trainer: Trainer, step: int, metrics: dict[str, float]) -> None:
        if step >= self.step:
            raise Interrupt(f"killed at step {step}")


def test_resume_after_a_crash_ends_exactly_where_the_uninterrupted_run_ends(
    tmp_path: Path, full: tuple[Path, ToyVAE, Trainer, FitResult]
) -> None:
    full_dir, full_model, _, _ = full
    with pytest.raises(Interrupt):
        fit(tmp_path / "crashed", keep_checkpoints=1, callbacks=(InterruptAt(12),))  # mid-epoch 2 (8 steps/epoch)
    crashed = RunDir(tmp_path / "crashed")
    assert [r["epoch"] for r in crashed.read_metrics()] == [1]
    resumed_model, trainer, resumed = fit(tmp_path / "crashed", keep_checkpoints=1, resume=True)
    assert resumed.start_epoch == 1 and [r["epoch"] for r in resumed.history] == [2, 3]
    for x, y in zip(params_of(full_model), params_of(resumed_model), strict=True):
        np.testing.assert_array_equal(x, y)
    assert int(resumed_model.seen[...]) == int(full_model.seen[...])  # non-param state restored too
    assert trainer.step == 24
    full_lines = [without_times(r) for r in RunDir(full_dir).read_metrics()]
    resumed_lines = [without_times(r) for r in crashed.read_metrics()]
    assert resumed_lines == full_lines


def test_resume_without_checkpoint_starts_fresh_and_finished_run_does_nothing(tmp_path: Path) -> None:
    _, _, first = fit(tmp_path, resume=True, epochs=1)
    assert first.start_epoch == 0 and len(first.history) == 1
    _, _, again = fit(tmp_path, resume=True, epochs=1)
    assert again.start_epoch == 1 and again.history == []


def test_nan_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(NonFiniteLossError) as info:
        fit(tmp_path, model_kwargs={"nan_at_step": 13})
    err = info.value
    assert err.step == 13 and err.epoch == 2 and err.last_good_epoch == 1
    assert "training loss became nan at step 13 (epoch 2)" in str(err)
    assert "last good checkpoint (epoch 1) is kept" in str(err)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()) == ["1"]
    assert [r["epoch"] for r in RunDir(tmp_path).read_metrics()] == [1]


def test_nan_in_the_first_epoch_says_no_checkpoint_yet() -> None:
    with pytest.raises(NonFiniteLossError, match="at step 0 .*no checkpoint had been written yet"):
        fit(None, model_kwargs={"nan_at_step": 0})
