"""Charts with matplotlib: the loss curves show each term's train and test values at their steps and the lr on
a second axis; matplotlib (and the tensorboard writer) are imported only when a chart or a log is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex_core.charts import curve_terms, curves_figure, save_curves

ROOT = Path(__file__).resolve().parents[2]


def rows(n: int = 3) -> list[dict]:
    return [{"epoch": e, "step": 8 * e, "train": {"loss": 30.0 / e, "kl_loss": 1.0 + e, "grad_norm": 5.0},
             "test": {"loss": 31.0 / e, "kl_loss": 1.5 + e}, "lr": 1e-3 * e} for e in range(1, n + 1)]


def test_one_panel_per_loss_term_with_train_and_test_at_their_steps() -> None:
    records = rows()
    fig = curves_figure(records)
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    assert list(panels) == ["loss", "kl_loss"] == curve_terms(records)  # grad_norm is not a loss term
    for term, ax in panels.items():
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"train", "test"}
        for split in ("train", "test"):
            assert lines[split].get_xdata().tolist() == [8.0, 16.0, 24.0]
            assert lines[split].get_ydata().tolist() == pytest.approx([r[split][term] for r in records])
    (lr_axis,) = [ax for ax in fig.axes if not ax.get_title()]  # the twin of the first panel
    (lr,) = lr_axis.get_lines()
    assert lr.get_label() == "lr" and lr.get_ydata().tolist() == pytest.approx([1e-3, 2e-3, 3e-3])
    assert lr_axis.get_ylabel() == "lr" and lr_axis.bbox.bounds == panels["loss"].bbox.bounds
    assert [t.get_text() for t in panels["loss"].get_legend().get_texts()] == ["train", "test", "lr"]


def test_missing_and_non_finite_values_are_left_out_and_no_term_is_an_error(tmp_path: Path) -> None:
    records = rows(2)
    records[0]["test"]["loss"] = float("nan")
    del records[1]["lr"]
    fig = curves_figure(records)
    test_line = [line for line in fig.axes[0].get_lines() if line.get_label() == "test"][0]
    assert test_line.get_xdata().tolist() == [16.0]
    with pytest.raises(ValueError, match="no loss term to plot"):
        curves_figure([{"epoch": 1, "step": 4, "lr": 1e-3}])
    path = save_curves(records, tmp_path / "curves.png")
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape == (300, 840, 3) and len(np.unique(image.reshape(-1, 3), axis=0)) > 10


def test_the_cli_and_the_loggers_package_import_no_matplotlib_nor_a_writer() -> None:
    code = (
        "import sys; import artifex_core.visualize, artifex_core.charts, artifex_plugins.loggers;"
        " import artifex_core.training.curves, artifex_core.training.tracking; from artifex_core.cli import app\n"
        "try:\n    app(['list'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('matplotlib', 'tensorboardX', 'tensorboard', 'mlflow') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    env = {**os.environ, "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stderr.strip().splitlines()[-1] == "HEAVY []", result.stderr
    assert "tensorboard" in result.stdout  # the logger is listed all the same
