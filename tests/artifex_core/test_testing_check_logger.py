"""``artifex_core.testing.check_logger``: passes conforming loggers, names the broken promise otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import artifex_core
from artifex_core.testing import ConformanceError, check_logger
from artifex_core.training import Logger

pytest_plugins = ["artifex_core.testing"]


class Rows(Logger):
    def __init__(self, run_dir: Path, *, filename: str = "rows.txt") -> None:
        super().__init__(run_dir)
        self.path = self.run_dir / filename

    def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(f"{record['epoch']} {trainer.step} {trainer.config.epochs}\n")


class Raises(Logger):
    def on_log(self, trainer: Any, step: int, metrics: dict[str, float]) -> None:
        raise KeyError("val_loss")


class Outside(Logger):
    def close(self) -> None:
        (self.run_dir.parent / "stray.txt").write_text("x")


class Plugin:
    @artifex_core.hookimpl
    def artifex_register(self, registry: Any) -> None:
        for name, cls in (("rows", Rows), ("raises", Raises), ("outside", Outside), ("notaclass", len)):
            registry.loggers.register(name, cls)


def test_conforming_loggers_pass_and_report_their_files(artifex_plugin: Any) -> None:
    artifex_plugin(Plugin(), name="checks")
    assert check_logger("jsonl") == {"logger": "JsonlLogger", "files": ["metrics.jsonl"]}
    assert check_logger("rows", filename="r.txt") == {"logger": "Rows", "files": ["r.txt"]}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("raises", "logger 'raises' raised in on_log: KeyError: 'val_loss'"),
        ("outside", "logger 'outside' wrote outside the run folder: ['stray.txt']"),
        ("notaclass", "logger 'notaclass' is not a Callback class"),
    ],
)
def test_broken_loggers_name_the_broken_promise(artifex_plugin: Any, name: str, message: str) -> None:
    artifex_plugin(Plugin(), name="checks")
    with pytest.raises(ConformanceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_logger(name)


def test_bad_options_are_a_conformance_error(artifex_plugin: Any) -> None:
    artifex_plugin(Plugin(), name="checks")
    with pytest.raises(ConformanceError, match="cannot be built as cls\\(run_dir, \\*\\*kwargs\\)"):
        check_logger("rows", colour="red")
