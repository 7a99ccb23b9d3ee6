"""The tensorboard logger, driven by hand and read back with tensorboard's own reader: tags, steps and values,
pictures, hyperparameters, a resume that purges what a killed run wrote past its checkpoint, bad options."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from artifex_core.registry import loggers
from artifex_core.testing import check_logger
from artifex_core.training import RunDir, TrainConfig
from artifex_core.training.tracking import record_scalars
from artifex_plugins.loggers import TensorBoardLogger

STEPS = 4  # steps per epoch of the stand-in trainer


def read(logdir: Path) -> EventAccumulator:
    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    return events


def trainer(step: int) -> Any:
    return types.SimpleNamespace(step=step, config=TrainConfig(epochs=4, batch_size=8), schedule=lambda s: 1e-3 * s)


def row(epoch: int, offset: float = 0.0) -> dict[str, Any]:
    return {"epoch": epoch, "step": epoch * STEPS, "train": {"loss": 10.0 / epoch + offset, "grad_norm": 1.5},
            "test": {"loss": 11.0 / epoch + offset, "kl_loss": 0.25 * epoch}, "lr": 1e-3 * epoch,
            "epoch_time_s": 0.5, "eval_time_s": 0.1, "examples_per_s": 64.0, "elapsed_s": 0.6 * epoch}


def fit(run: Path, start: int, stop: int, offset: float = 0.0) -> None:
    """Drive a fit from epoch ``start`` to ``stop`` as the trainer does (two on_log calls per epoch)."""
    log = TensorBoardLogger(run)
    t = trainer(start * STEPS)
    log.on_fit_start(t, start)
    for epoch in range(start + 1, stop + 1):
        for half in (1, 2):
            t.step = (epoch - 1) * STEPS + half * STEPS // 2
            log.on_log(t, t.step, {"loss": 9.0 / epoch + offset, "grad_norm": 2.0})
        log.on_epoch_end(t, row(epoch, offset))
        log.on_images(t, epoch, {"samples": np.full((5, 7, 1), 40 * epoch, np.uint8),
                                 "reconstructions": np.zeros((3, 4, 3), np.uint8)})
    log.close()


def test_scalars_are_tagged_and_stepped_as_the_rows_say(tmp_path: Path) -> None:
    fit(tmp_path, 0, 2)
    events = read(tmp_path / "tensorboard")
    for epoch in (1, 2):
        for tag, value in record_scalars(row(epoch)).items():
            assert [e.step for e in events.Scalars(tag)][epoch - 1] == epoch * STEPS
            assert events.Scalars(tag)[epoch - 1].value == pytest.approx(value, rel=1e-6)
    assert {"train/loss", "train/grad_norm", "test/loss", "test/kl_loss", "lr", "perf/examples_per_s"} <= set(
        events.Tags()["scalars"]
    )
    logged = events.Scalars("train_log/loss")
    assert [e.step for e in logged] == [2, 4, 6, 8] and logged[2].value == pytest.approx(4.5)
    assert [e.value for e in events.Scalars("train_log/lr")] == pytest.approx([2e-3, 4e-3, 6e-3, 8e-3])


def test_pictures_are_images_at_the_epoch_step_with_their_pixels(tmp_path: Path) -> None:
    fit(tmp_path, 0, 2)
    events = read(tmp_path / "tensorboard")
    samples = events.Images("images/samples")
    assert [(e.step, e.width, e.height) for e in samples] == [(4, 7, 5), (8, 7, 5)]
    from io import BytesIO

    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(samples[1].encoded_image_string)).convert("L"))
    assert pixels.shape == (5, 7) and (pixels == 80).all()
    assert [(e.width, e.height) for e in events.Images("images/reconstructions")] == [(4, 3), (4, 3)]


def test_a_resume_purges_the_steps_a_killed_run_wrote_past_its_checkpoint(tmp_path: Path) -> None:
    fit(tmp_path, 0, 3)  # logged epoch 3, then "killed" before checkpointing it
    fit(tmp_path, 2, 4, offset=100.0)  # resumed from the checkpoint of epoch 2
    assert len(list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))) == 2
    events = read(tmp_path / "tensorboard")
    losses = events.Scalars("train/loss")
    assert [e.step for e in losses] == [4, 8, 12, 16]  # each step once
    assert [e.value for e in losses] == pytest.approx([10.0, 5.0, 10 / 3 + 100, 2.5 + 100])
    assert [e.step for e in events.Scalars("train_log/loss")] == [2, 4, 6, 8, 10, 12, 14, 16]
    assert [e.step for e in events.Images("images/samples")] == [4, 8, 12, 16]


def test_hyperparameters_come_from_config_json(tmp_path: Path) -> None:
    RunDir(tmp_path).write_config({"model": {"latent_dim": 3, "hidden_dims": [8, 4], "beta": None},
                                   "train": {"lr": 0.01, "data_parallel": False}, "dataset": {"name": "dots"}})
    fit(tmp_path, 0, 1)
    content = read(tmp_path / "tensorboard").PluginTagToContent("hparams")
    start = HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info.hparams
    assert start["model.latent_dim"].number_value == 3 and start["model.hidden_dims"].string_value == "[8, 4]"
    assert start["train.lr"].number_value == pytest.approx(0.01) and start["train.data_parallel"].bool_value is False
    assert start["dataset.name"].string_value == "dots" and start["model.beta"].string_value == "None"
    experiment = HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in experiment.metric_infos] == ["test/loss", "train/loss"]


def test_registered_as_tensorboard_and_tb_and_meets_the_logger_contract() -> None:
    assert loggers.get("tensorboard") is TensorBoardLogger and loggers.get("tb") is TensorBoardLogger
    report = check_logger("tensorboard", epochs=3)
    assert report["logger"] == "TensorBoardLogger"
    assert [f.split(".")[0] for f in report["files"]] == ["tensorboard/events", "tensorboard/events"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"images": "yes"}, TypeError, "tensorboard option 'images' must be true or false, got 'yes'"),
        ({"flush_secs": 0}, ValueError, "tensorboard option 'flush_secs' must be a positive integer, got 0"),
        ({"colour": "red"}, TypeError, "unexpected keyword argument 'colour'"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, options: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        TensorBoardLogger(tmp_path, **options)
    assert not (tmp_path / "tensorboard").exists()


def test_images_false_logs_no_pictures(tmp_path: Path) -> None:
    log = TensorBoardLogger(tmp_path, images=False)
    log.on_fit_start(trainer(0), 0)
    log.on_images(trainer(4), 1, {"samples": np.zeros((2, 2, 1), np.uint8)})
    log.close()
    assert read(tmp_path / "tensorboard").Tags()["images"] == []
