"""`artifex report`'s page: built from a real tiny run, checked in headless Chromium and as text."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex_core.report import render_report, write_report
from artifex_core.report._html import CSP
from artifex_core.report import read_run
from artifex_core.training import RunDirError


def _rows(table: list[list[dict]]) -> dict[str, list[dict]]:
    return {row[0]["text"]: row[1:] for row in table}


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_the_report_renders_in_chromium_with_every_image_and_the_runs_numbers(tiny_runs, open_page, tmp_path: Path) -> None:
    out = write_report(tiny_runs.a, tmp_path / "report.html")
    page = open_page(out, tmp_path / "report.png")
    assert page.console == []  # no error, no blocked load, nothing at all logged
    # the trainer drew curves.png (every run folder has it)
    assert [i["alt"] for i in page.images] == ["curves.png", "samples.png", "reconstructions.png", "traversals.png"]
    assert all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in page.images), page.images
    assert {i["scheme"] for i in page.images} == {"data"}  # inline: nothing is fetched
    with Image.open(tiny_runs.a / "samples.png") as grid:
        assert page.images[1]["width"] == grid.width  # the grid itself, decoded

    records = _records(tiny_runs.a)
    final = records[-1]
    best = min(records, key=lambda r: r["test"]["loss"])
    metrics = _rows(page.tables["metrics"])
    assert float(metrics["test.loss"][0]["value"]) == final["test"]["loss"]
    assert float(metrics["test.loss"][1]["value"]) == best["test"]["loss"]
    assert float(metrics["train.kl_loss"][0]["value"]) == final["train"]["kl_loss"]
    assert metrics["epoch"][0]["text"] == "2" and float(metrics["lr"][0]["value"]) == final["lr"]
    overview = _rows(page.tables["overview"])
    assert overview["best epoch"][0]["text"] == str(best["epoch"]) and overview["model"][0]["text"] == "vae"

    evaluation = json.loads((tiny_runs.a / "evaluation.json").read_text())
    figures = _rows(page.tables["evaluation"])
    for key in ("elbo", "neg_elbo", "bits_per_dim"):
        assert float(figures[f"elbo.{key}"][0]["value"]) == evaluation["metrics"]["elbo"][key]
    assert float(figures["test_loss.loss"][0]["value"]) == evaluation["metrics"]["test_loss"]["loss"]
    about = _rows(page.tables["evaluation-about"])
    assert about["checkpoint epoch"][0]["text"] == "2" and about["argument k"][0]["text"] == "20"

    config = _rows(page.tables["config"])
    assert config["model.latent_dim"][0]["text"] == "2" and config["model.hidden_dims"][0]["text"] == "[16]"
    assert config["train.limit"][0]["text"] == "256" and config["dataset.name"][0]["text"] == "mnist"
    made = _rows(page.tables["provenance"])
    saved = json.loads((tiny_runs.a / "config.json").read_text())["provenance"]
    assert made["plugin"][0]["text"] == "builtin" and made["model"][0]["text"] == "builtin:vae"
    assert made["package jax"][0]["text"] == saved["packages"]["jax"]

    with Image.open(page.screenshot) as shot:  # the screenshot is the whole page
        assert shot.width == 1280 and shot.height > 1600
        assert np.asarray(shot.convert("L")).std() > 10


def test_a_run_without_curves_png_gets_its_curves_drawn_inline(tiny_runs, open_page, tmp_path: Path) -> None:
    run = tmp_path / "old-run"  # a folder from before curves.png, or one whose PNG was deleted
    shutil.copytree(tiny_runs.a, run)
    (run / "curves.png").unlink()
    page = open_page(write_report(run), tmp_path / "svg.png", full_page=False)
    assert page.console == []
    assert [i["alt"] for i in page.images][0] == "loss curves"  # drawn from metrics.jsonl, inline
    assert all(i["complete"] and i["width"] > 0 for i in page.images), page.images


def test_a_run_with_curves_png_shows_it(tiny_runs, open_page, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_runs.a, run)
    Image.fromarray(np.tile(np.arange(200, dtype=np.uint8), (90, 1))).save(run / "curves.png")
    page = open_page(write_report(run), tmp_path / "curves.png", full_page=False)
    assert page.console == []
    curves = [i for i in page.images if i["alt"] == "curves.png"]
    assert curves and curves[0]["width"] == 200 and curves[0]["height"] == 90
    assert "loss curves" not in [i["alt"] for i in page.images]  # no SVG drawn when the run has the PNG
    assert (run / "report.html").is_file()  # the default place


def test_everything_from_the_run_folder_is_escaped(tiny_runs, open_page, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_runs.b, run)
    config = json.loads((run / "config.json").read_text())
    hostile = '<img src=x onerror="document.title=\'owned\'">&amp;</td>'
    config["train"]["dataset"] = hostile
    config["dataset"]["name"] = hostile
    (run / "config.json").write_text(json.dumps(config))
    (run / "samples.png").unlink()
    text = render_report(read_run(run))
    assert hostile not in text and "&lt;img src=x onerror=" in text
    page = open_page(write_report(run, tmp_path / "r.html"), tmp_path / "escaped.png", full_page=False)
    assert page.console == [] and len(page.images) == 3  # curves, reconstructions, traversals: nothing injected
    assert hostile in page.text  # shown as text, literally
    assert "samples.png: not in the run folder." in page.text
    assert "No evaluation yet" in page.text  # b was never evaluated


def test_the_page_is_self_contained(tiny_runs) -> None:
    text = render_report(read_run(tiny_runs.a))
    assert f'content="{CSP.replace(chr(39), "&#x27;")}"' in text
    assert "http://" not in text and "https://" not in text.replace("http://www.w3.org", "")
    assert "<script" not in text and "<link" not in text


def test_a_run_without_epochs_and_a_folder_that_is_no_run(tmp_path: Path) -> None:
    run = tmp_path / "fresh"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": {"model": "vae"}, "train": {"epochs": 3}}))
    text = render_report(read_run(run))
    assert "No epoch has finished yet" in text and "samples.png: not in the run folder." in text
    assert "not recorded" in text  # no provenance in an old config.json
    with pytest.raises(RunDirError, match="is not a run folder: it has no config.json"):
        write_report(tmp_path)
    with pytest.raises(RunDirError, match="does not exist"):
        write_report(tmp_path / "missing")


def test_best_is_the_lowest_finite_test_loss(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model": {"model": "vae"}, "train": {}}))
    rows = [{"epoch": 1, "test": {"loss": 5.0}}, {"epoch": 2, "test": {"loss": "nan"}}, {"epoch": 3, "test": {"loss": 4.0}},
            {"epoch": 4, "test": {"loss": 4.5}}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = read_run(tmp_path)
    assert summary.best["epoch"] == 3 and summary.final["epoch"] == 4
    assert summary.test_curve() == ([1, 3, 4], [5.0, 4.0, 4.5])  # no step recorded: the epoch
    assert not any(math.isnan(v) for v in summary.test_curve()[1])


def test_a_vq_run_shows_its_codebook_usage_instead_of_traversals(tiny_runs, tmp_path: Path) -> None:
    run = tmp_path / "vq"
    shutil.copytree(tiny_runs.b, run)
    (run / "traversals.png").rename(run / "codebook_usage.png")
    text = render_report(read_run(run))
    assert 'alt="codebook_usage.png"' in text and "traversals.png" not in text
    assert text.count("data:image/png;base64,") == 4  # curves, samples, reconstructions, codebook usage
