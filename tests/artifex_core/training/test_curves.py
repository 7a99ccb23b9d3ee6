"""curves.png: drawn from metrics.jsonl after an epoch (so a resume shows the kept history) at most every
``min_interval_s``, at the end of every fit that left something undrawn, and a failure to draw is one warning,
never a stopped run."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from artifex_core import _charts as charts
from artifex_core import save_curves
from artifex_core.training import FitResult, LoggerWarning, RunDir
from artifex_core.training import CurvesCallback


def row(epoch: int) -> dict:
    return {"epoch": epoch, "step": 4 * epoch, "train": {"loss": 5.0 / epoch}, "test": {"loss": 6.0 / epoch},
            "lr": 1e-3}


def test_drawn_from_the_rows_metrics_jsonl_keeps(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    for epoch in (1, 2, 3):
        run.append_metrics(row(epoch))
    run.truncate_metrics(2)  # a resume from epoch 2
    curves = CurvesCallback(run.path, min_interval_s=0)
    curves.on_epoch_end(None, row(3))  # type: ignore[arg-type]
    expected = save_curves(run.read_metrics(), tmp_path / "expected.png").read_bytes()
    assert curves.path.read_bytes() == expected
    assert expected != save_curves([row(1), row(2), row(3)], tmp_path / "three.png").read_bytes()


def test_epochs_redraw_at_most_every_min_interval_and_the_fit_end_draws_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[int] = []
    real = charts.save_curves

    def counting(records: list, path: Path) -> Path:
        drawn.append(len(records))
        return real(records, path)

    monkeypatch.setattr(charts, "save_curves", counting)
    run = RunDir(tmp_path)
    curves = CurvesCallback(run.path, min_interval_s=3600)
    curves.on_fit_start(None, 0)  # type: ignore[arg-type]
    for epoch in (1, 2, 3):
        run.append_metrics(row(epoch))
        curves.on_epoch_end(None, row(epoch))  # type: ignore[arg-type]
    assert drawn == [] and not curves.path.exists()  # the last drawing (the fit's start) is recent
    curves.on_fit_end(None, FitResult(history=[row(1), row(2), row(3)]))  # type: ignore[arg-type]
    assert drawn == [3] and curves.path.is_file()  # every epoch, at the end
    curves.on_fit_end(None, FitResult(history=[row(3)]))  # type: ignore[arg-type]
    assert drawn == [3]  # nothing new: not drawn again
    curves.on_fit_end(None, FitResult())  # type: ignore[arg-type]
    assert drawn == [3, 3]  # a fit that trained nothing (a finished run resumed) draws

    every = CurvesCallback(run.path, min_interval_s=0)
    every.on_fit_start(None, 0)  # type: ignore[arg-type]
    every.on_epoch_end(None, row(3))  # type: ignore[arg-type]
    assert drawn == [3, 3, 3]  # min_interval_s=0: after every epoch


def test_a_failure_to_draw_is_one_warning_and_drawing_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def broken(records: list, path: Path) -> Path:
        calls.append(len(records))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(charts, "save_curves", broken)
    run = RunDir(tmp_path)
    run.append_metrics(row(1))
    curves = CurvesCallback(run.path, min_interval_s=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curves.on_epoch_end(None, row(1))  # type: ignore[arg-type]
        curves.on_epoch_end(None, row(1))  # type: ignore[arg-type]
    assert calls == [1] and curves.failed == "OSError: [Errno 28] No space left on device"
    assert [(w.category, str(w.message)) for w in caught] == [
        (LoggerWarning, "curves.png could not be drawn and is not redrawn for the rest of the run: "
                        "OSError: [Errno 28] No space left on device")
    ]
