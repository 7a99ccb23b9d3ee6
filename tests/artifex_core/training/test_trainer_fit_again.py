"""A second ``fit()`` continues: the state is made in ``__init__`` and ``fit(epochs=n)`` trains n more epochs."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import nnx
from toy_vae import BASE, DATA, ToyVAE, params_of

from artifex_core.training import RunDir, RunDirError, TrainConfig, Trainer
from artifex_core.training.plan import plan_fit


def _trainer(run_dir: Path | None = None, **overrides: object) -> tuple[ToyVAE, Trainer]:
    model = ToyVAE((6, 6, 1), rngs=nnx.Rngs(0))
    cfg = TrainConfig(**{**BASE, "epochs": 2, **overrides})
    return model, Trainer(model, cfg, DATA, run_dir=run_dir)


def test_two_fits_of_one_epoch_equal_one_fit_of_two(tmp_path: Path) -> None:
    once_model, once = _trainer()
    whole = once.fit(epochs=2)
    twice_model, twice = _trainer(tmp_path / "run")
    first, second = twice.fit(epochs=1), twice.fit(epochs=1)
    assert [r["epoch"] for r in first.history] == [1] and [r["epoch"] for r in second.history] == [2]
    assert (first.start_epoch, second.start_epoch) == (0, 1)
    assert twice.epoch == once.epoch == 2 and twice.step == once.step == 2 * 8
    for a, b in zip(params_of(once_model), params_of(twice_model), strict=True):
        np.testing.assert_array_equal(a, b)  # same shuffles, bits, RNG stream and schedule: exactly equal
    assert int(twice_model.seen[...]) == int(once_model.seen[...]) == 2 * 8 * 32  # non-param state carried
    assert second.history[0]["test"] == whole.history[1]["test"]
    # the second fit continued in its own folder: metrics and checkpoints run on
    run = RunDir(tmp_path / "run")
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2]
    assert sorted(int(p.name) for p in run.checkpoints.iterdir()) == [1, 2]
    assert second.elapsed_s >= first.elapsed_s > 0


def test_a_bare_fit_trains_config_epochs_more_each_time() -> None:
    _, trainer = _trainer(epochs=1)
    assert [r["epoch"] for r in trainer.fit().history] == [1]
    assert [r["epoch"] for r in trainer.fit().history] == [2]
    assert trainer.fit(epochs=0).history == [] and trainer.epoch == 2
    with pytest.raises(ValueError, match="epochs must be >= 0, got -1"):
        trainer.fit(epochs=-1)


def test_resume_continues_to_config_epochs_then_epochs_more(tmp_path: Path) -> None:
    model, trainer = _trainer(tmp_path)
    trainer.fit()
    done = params_of(model)
    again_model, again = _trainer(tmp_path)
    assert again.fit(resume=True).history == []  # the run had reached config.epochs: nothing more
    for a, b in zip(done, params_of(again_model), strict=True):
        np.testing.assert_array_equal(a, b)  # but the model holds the checkpoint's state
    more = again.fit(epochs=1, resume=True)
    assert (more.start_epoch, [r["epoch"] for r in more.history]) == (2, [3])
    assert [r["epoch"] for r in RunDir(tmp_path).read_metrics()] == [1, 2, 3]
    with pytest.raises(RunDirError, match="already holds a trained run"):
        _trainer(tmp_path)[1].fit()  # a fresh trainer does not train over a finished run


def test_the_state_is_made_in_init_and_the_model_keeps_its_arrays(tmp_path: Path) -> None:
    foreign = tmp_path / "someone"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    model, trainer = _trainer(foreign)  # constructing writes nothing into the folder
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert trainer.train_split.size == 256 and len(trainer.test_batches) == 2
    for a, b in zip(jax.tree.leaves(trainer.params), params_of(model), strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)
    with pytest.raises(RunDirError, match="is not an artifex run folder"):
        trainer.fit()
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]

    model, trainer = _trainer(epochs=1)
    trainer.fit()
    kept = jax.tree.leaves(nnx.state(model, nnx.Param))
    trainer.fit()  # donates the trainer's buffers, not the model's
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in kept)


def test_a_trainer_is_built_from_a_plan() -> None:
    cfg = TrainConfig(**BASE)
    plan = plan_fit(cfg, DATA, conditional=True)
    trainer = Trainer(ToyVAE((6, 6, 1), rngs=nnx.Rngs(0), num_classes=6), plan)
    assert trainer.plan is plan and trainer.conditional and trainer.mesh is plan.mesh
    assert trainer.binarize == plan.binarize == "dynamic" and trainer.steps_per_epoch == plan.steps_per_epoch == 8
    with pytest.raises(TypeError, match="takes dataset, conditional from the plan"):
        Trainer(ToyVAE((6, 6, 1), rngs=nnx.Rngs(0)), plan, DATA, conditional=True)
    with pytest.raises(TypeError, match="a train config needs the dataset"):
        Trainer(ToyVAE((6, 6, 1), rngs=nnx.Rngs(0)), cfg)


def test_config_json_records_the_segment_a_second_fit_does_not_rewrite(tmp_path: Path) -> None:
    """A plain Trainer writes no config.json (that is run_training's): two fits leave only metrics and
    checkpoints, and the folder stays resumable by another trainer."""
    _, trainer = _trainer(tmp_path, epochs=1)
    trainer.fit()
    trainer.fit()
    assert not (tmp_path / "config.json").exists()
    marker = json.loads((tmp_path / ".artifex-run").read_text())
    assert marker["format"]
    _, other = _trainer(tmp_path, epochs=3)
    assert [r["epoch"] for r in other.fit(resume=True).history] == [3]
