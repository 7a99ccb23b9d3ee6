"""plan_run / plan_fit: a run is resolved and checked once, in a fixed order, before anything is written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from toy_vae import DATA, toy_dataset

from artifex_core.registry import UnknownNameError
from artifex_core.training import RunDirError, TrainConfig
from artifex_core.training.config import TrainConfigError
from artifex_core.training.loggers import qualify_loggers
from artifex_core.training.plan import FitPlan, RunPlan, RunSetupError, plan_fit, plan_run
from artifex_core.training.run import run_plan

MODEL = {"model": "vae", "latent_dim": 2, "hidden_dims": [8], "parameters": {"reconstruction_loss_type": "bce"}}
TRAIN = {"dataset": "bars", "epochs": 1, "batch_size": 32, "eval_batch_size": 32, "log_every": 4}


def _plan(out: Path, model: dict[str, Any] | None = None, **kwargs: Any) -> RunPlan:
    train = TrainConfig(**{**TRAIN, **kwargs.pop("train", {})})
    return plan_run(model or MODEL, train, out, dataset=kwargs.pop("dataset", DATA), **kwargs)


def test_a_plan_holds_everything_resolved_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    plan = _plan(out, loggers=["jsonl"])
    assert not out.exists()  # planning checks the folder and writes nothing, not even the lock file
    assert tuple(plan.model_config.input_dim) == (6, 6, 1) == tuple(plan.model_config.output_dim or ())
    fit = plan.fit
    assert isinstance(fit, FitPlan) and fit.dataset is DATA and fit.run_dir == out
    assert fit.binarize == fit.train_config.binarize == "dynamic"  # "auto" resolved from the bce likelihood
    assert fit.train_config.loggers == qualify_loggers({"jsonl": {}})  # names qualified once, here
    assert (fit.conditional, fit.num_classes, fit.steps_per_epoch, fit.mesh.size) == (False, None, 8, 1)
    assert plan.dataset_info.input_shape == (6, 6, 1) and plan.dataset_info.num_train == 256
    assert (plan.resume, plan.previous, plan.logger_objects, plan.pictures) == (False, None, (), True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.resume = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.binarize = "none"  # type: ignore[misc]


def test_conditioning_comes_from_the_model_config(tmp_path: Path) -> None:
    plan = _plan(tmp_path / "run", {"model": "conditional_vae", "latent_dim": 2, "hidden_dims": [8]})
    assert plan.model_config.conditional and plan.model_config.num_classes == 6
    assert (plan.fit.conditional, plan.fit.num_classes) == (True, 6)
    with pytest.raises(RunSetupError, match="is conditional but dataset 'bars' has no labels"):
        _plan(tmp_path / "run", {"model": "conditional_vae"}, dataset=toy_dataset(labels=False))


def test_the_checks_run_in_order_loggers_folder_data(tmp_path: Path) -> None:
    foreign = tmp_path / "someone"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(UnknownNameError, match="jsnol"):  # first: a misspelt logger, nothing looked at
        _plan(foreign, loggers=["jsnol"], dataset=None, train={"dataset": "no-such-dataset"})
    with pytest.raises(RunDirError, match="is not an artifex run folder"):  # then the folder, before the data
        _plan(foreign, dataset=None, train={"dataset": "no-such-dataset"})
    with pytest.raises(TrainConfigError, match="batch_size 512 is larger than the 256 training examples"):
        _plan(tmp_path / "run", train={"batch_size": 512})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["someone"]
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_plan_fit_checks_labels_devices_and_batch() -> None:
    cfg = TrainConfig(**TRAIN)
    with pytest.raises(TrainConfigError, match="dataset 'bars' has no labels; a conditional model needs them"):
        plan_fit(cfg, toy_dataset(labels=False), conditional=True)
    with pytest.raises(TrainConfigError, match="no devices to train on"):
        plan_fit(cfg, DATA, devices=[])
    plan = plan_fit(cfg, DATA)
    assert plan.binarize == "none" and plan.run_dir is None  # "auto" without a model config: none


def test_resume_is_planned_against_the_run_and_checked_again_under_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_plan(_plan(out, pictures=False))
    assert [r["epoch"] for r in first.result.history] == [1]
    with pytest.raises(RunDirError, match="already holds a trained run; pass --resume"):
        _plan(out)
    with pytest.raises(RunDirError, match=r"--resume cannot change the model .*latent_dim 2 -> 3"):
        _plan(out, {**MODEL, "latent_dim": 3}, resume=True)
    plan = _plan(out, resume=True, train={"epochs": 2}, pictures=False)
    assert plan.previous is not None and plan.previous["train"]["epochs"] == 1
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "note": "someone else resumed meanwhile"}))
    with pytest.raises(RunDirError, match="changed while the run was planned"):
        run_plan(plan)
    (out / "config.json").write_text(json.dumps(config))
    resumed = run_plan(plan)
    assert (resumed.result.start_epoch, [r["epoch"] for r in resumed.result.history]) == (1, [2])
    segments = json.loads((out / "config.json").read_text())["segments"]
    assert [(s["from_epoch"], s["status"], s["changes"]) for s in segments] == [
        (0, "finished", {}), (1, "finished", {"epochs": [1, 2]})
    ]
