"""Loggers in the trainer: every epoch reaches them, one that raises is reported once and switched off, the
jsonl logger's failure stops the run, and a logger's epoch row comes before the epoch's checkpoint."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from toy_vae import BASE, DATA, ToyVAE
from flax import nnx

from artifex_core.registry import Registry
from artifex_core.training import Callback, JsonlLogger, Logger, LoggerWarning, RunDir, TrainConfig, Trainer
from artifex_core.training.loggers import HOOKS, LoggerGroup, build_loggers, logger_names, qualify_loggers
from artifex_core.registry import UnknownNameError

RECORD_KEYS = {"epoch", "step", "train", "test", "lr", "epoch_time_s", "eval_time_s", "examples_per_s", "elapsed_s"}


class Recorder(Logger):
    """Remembers every call (hook name and its arguments)."""

    def __init__(self, run_dir: Path, **kwargs: Any) -> None:
        self.fail_in = kwargs.pop("fail_in", None)
        super().__init__(run_dir, **kwargs)
        self.calls: list[tuple[str, Any]] = []

    def _hit(self, hook: str, value: Any) -> None:
        self.calls.append((hook, value))
        if hook == self.fail_in:
            raise RuntimeError(f"{hook} is broken")

    def on_fit_start(self, trainer: Any, start_epoch: int) -> None:
        self._hit("on_fit_start", start_epoch)

    def on_log(self, trainer: Any, step: int, metrics: dict[str, float]) -> None:
        self._hit("on_log", (step, dict(metrics)))

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        checkpointed = trainer.checkpointer.latest_epoch() if trainer.checkpointer is not None else None
        self._hit("on_epoch_end", (record, checkpointed))

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        self._hit("on_fit_end", [r["epoch"] for r in result.history])

    def close(self) -> None:
        self._hit("close", None)


class SeesCheckpoint(Callback):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        self.seen.append(trainer.checkpointer.latest_epoch())


def _fit(run_dir: Path | None, loggers: list[Any], callbacks: tuple[Callback, ...] = (), resume: bool = False,
         **overrides: Any) -> Trainer:
    cfg = TrainConfig(**{**BASE, **overrides})
    trainer = Trainer(ToyVAE((6, 6, 1), rngs=nnx.Rngs(0)), cfg, DATA, run_dir=run_dir, loggers=loggers,
                      callbacks=callbacks)
    trainer.fit(resume=resume)
    return trainer


def test_a_logger_gets_every_hook_in_order_and_each_epoch_before_its_checkpoint(tmp_path: Path) -> None:
    log, plain = Recorder(tmp_path), SeesCheckpoint()
    _fit(tmp_path, [log], callbacks=(plain,))
    hooks = [h for h, _ in log.calls]
    assert hooks[0] == "on_fit_start" and hooks[-2:] == ["on_fit_end", "close"]
    epochs = [v for h, v in log.calls if h == "on_epoch_end"]
    assert [r["epoch"] for r, _ in epochs] == [1, 2, 3]
    assert [seen for _, seen in epochs] == [None, 1, 2]  # the logger writes before the epoch's checkpoint
    assert plain.seen == [1, 2, 3]  # a plain callback after it
    assert all(set(r) == RECORD_KEYS for r, _ in epochs) and epochs[-1][0]["step"] == 24
    logs = [v for h, v in log.calls if h == "on_log"]
    assert [step for step, _ in logs] == [4, 8, 12, 16, 20, 24] and "loss" in logs[0][1]
    assert RunDir(tmp_path).read_metrics() == [r for r, _ in epochs]  # jsonl was added, first, by itself


@pytest.mark.parametrize("hook", ["on_fit_start", "on_log", "on_epoch_end", "on_fit_end", "close"])
def test_a_logger_that_raises_is_reported_once_and_training_goes_on(tmp_path: Path, hook: str) -> None:
    broken, healthy = Recorder(tmp_path, fail_in=hook), Recorder(tmp_path)
    broken.name = "mine:broken"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(tmp_path, [broken, healthy])
    messages = [str(w.message) for w in caught if issubclass(w.category, LoggerWarning)]
    assert messages == [
        f"logger 'mine:broken' failed in {hook} and is switched off for the rest of the run: RuntimeError: {hook} is broken"
    ]
    assert [h for h, _ in broken.calls].count(hook) == 1  # never called again
    assert len([h for h, _ in healthy.calls if h == "on_epoch_end"]) == 3
    assert [r["epoch"] for r in RunDir(tmp_path).read_metrics()] == [1, 2, 3]
    if hook != "close":
        assert broken.calls[-1] == ("close", None)  # a logger switched off is still closed


def test_the_jsonl_loggers_failure_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: RunDir, records: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunDir, "write_metrics", full)
    later = Recorder(tmp_path)
    with pytest.raises(OSError, match="No space left"):
        _fit(tmp_path, [later])
    assert not (tmp_path / "checkpoints").exists() or not RunDir(tmp_path).has_checkpoints()
    assert later.calls[-1] == ("close", None)  # the others are closed on the way out


def test_a_given_jsonl_logger_is_not_doubled_and_no_run_dir_means_no_jsonl(tmp_path: Path) -> None:
    mine = JsonlLogger(tmp_path)
    trainer = _fit(tmp_path, [mine], epochs=1)
    assert trainer.loggers.active == [mine]
    assert [type(x) for x in _fit(None, [], epochs=1).loggers.active] == []


def test_resume_tells_loggers_the_epoch_resumed_from(tmp_path: Path) -> None:
    _fit(tmp_path, [], epochs=2)
    log = Recorder(tmp_path)
    _fit(tmp_path, [log], resume=True, epochs=3)
    assert log.calls[0] == ("on_fit_start", 2)
    assert [v[0]["epoch"] for h, v in log.calls if h == "on_epoch_end"] == [3]


def test_build_loggers_names_them_and_leaves_out_one_that_cannot_be_built(tmp_path: Path) -> None:
    reg = Registry("logger")
    reg.register("rec", Recorder)
    reg.register("notacallback", "builtins:len")
    reg.register("jsonl", JsonlLogger)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        built = build_loggers({"rec": {}, "notacallback": {}, "jsonl": {}}, tmp_path, reg)
    assert [(type(b).__name__, b.name) for b in built] == [("Recorder", "local:rec"), ("JsonlLogger", "local:jsonl")]
    assert len(caught) == 1 and "logger 'local:notacallback' could not be built" in str(caught[0].message)
    with pytest.warns(LoggerWarning, match="Recorder got unexpected options: colour"):
        assert build_loggers({"rec": {"colour": "red"}}, tmp_path, reg) == []
    with pytest.raises(TypeError, match="unexpected keyword argument .colour."):  # a required logger's failure is raised
        build_loggers({"jsonl": {"colour": "red"}}, tmp_path, reg)


def test_names_are_split_qualified_and_unknown_ones_suggest_close_matches() -> None:
    reg = Registry("logger")
    reg.register("good_log", Recorder, aliases=("good",))
    assert logger_names(["good_log,good", "good_log"]) == ["good_log", "good"]
    assert qualify_loggers({"good": {"a": 1}, "local:good_log": {"b": 2}}, reg) == {"local:good_log": {"a": 1, "b": 2}}
    with pytest.raises(UnknownNameError, match="unknown logger 'good_lgo'; did you mean 'good_log'"):
        qualify_loggers({"good_lgo": {}}, reg)


def test_hooks_are_the_documented_ones() -> None:
    assert HOOKS == ("on_fit_start", "on_log", "on_epoch_end", "on_images", "on_fit_end", "close")
    assert all(callable(getattr(Logger, h)) for h in HOOKS)
    assert LoggerGroup([]).active == []


def test_on_images_reaches_loggers_that_have_it_and_skips_plain_callbacks(tmp_path: Path) -> None:
    import numpy as np

    class Pictures(Logger):
        def __init__(self, run_dir: Path) -> None:
            super().__init__(run_dir)
            self.seen: list[tuple[int, dict[str, tuple[int, ...]]]] = []

        def on_images(self, trainer: Any, epoch: int, images: Any) -> None:
            self.seen.append((epoch, {name: a.shape for name, a in images.items()}))

    pictures, plain = Pictures(tmp_path), SeesCheckpoint()
    group = LoggerGroup([plain, pictures, Logger(tmp_path)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a logger without on_images is not "failed"
        group.call("on_images", None, 3, {"samples": np.zeros((4, 5, 1), np.uint8)})
    assert pictures.seen == [(3, {"samples": (4, 5, 1)})]
    assert len(group.active) == 3 and group.failed == {}
