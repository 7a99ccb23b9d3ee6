"""`artifex compare`: the differing config fields, the figures, and the HTML page in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from artifex_core.report import compare_runs, render_compare, run_labels
from artifex_core.training import RunDirError


def _final(run: Path) -> dict:
    return json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])


def test_only_the_fields_that_differ_and_every_runs_figures(tiny_runs) -> None:
    comparison = compare_runs([tiny_runs.a, tiny_runs.b])
    assert comparison.labels == ["a", "b"]
    assert comparison.config_diff == {"model.latent_dim": [2, 3]}  # same recipe otherwise
    figures = comparison.figures
    assert figures["final.test.loss"] == [_final(tiny_runs.a)["test"]["loss"], _final(tiny_runs.b)["test"]["loss"]]
    assert figures["final.epoch"] == [2, 2] and figures["best.epoch"][0] in (1, 2)
    neg_elbo = tiny_runs.evaluation["metrics"]["elbo"]["neg_elbo"]
    assert figures["evaluation.elbo.neg_elbo"] == [neg_elbo, None]  # b has no evaluation.json
    names = list(figures)
    assert names.index("final.epoch") < names.index("best.epoch") < names.index("evaluation.checkpoint_epoch")
    data = comparison.to_json()
    assert [r["label"] for r in data["runs"]] == ["a", "b"] and json.loads(json.dumps(data)) == data


def test_a_field_only_one_run_has_differs(tiny_runs, tmp_path: Path) -> None:
    run = tmp_path / "c"
    shutil.copytree(tiny_runs.a, run)
    config = json.loads((run / "config.json").read_text())
    config["model"]["parameters"]["beta"] = 4.0
    config["train"]["epochs"] = 2.0  # the same number as 2: no difference
    (run / "config.json").write_text(json.dumps(config))
    diff = compare_runs([tiny_runs.a, run]).config_diff
    assert diff == {"model.parameters.beta": [None, 4.0]}


def test_labels_fall_back_to_paths_when_names_collide(tmp_path: Path) -> None:
    assert run_labels([tmp_path / "x" / "run", tmp_path / "y" / "run"]) == [
        str(tmp_path / "x" / "run"), str(tmp_path / "y" / "run"),
    ]


def test_a_folder_that_is_no_run_is_named(tiny_runs, tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match=f"'{tmp_path}' is not a run folder"):
        compare_runs([tiny_runs.a, tmp_path])


def test_the_compare_page_renders_in_chromium(tiny_runs, open_page, tmp_path: Path) -> None:
    page_path = tmp_path / "compare.html"
    page_path.write_text(render_compare(compare_runs([tiny_runs.a, tiny_runs.b])))
    page = open_page(page_path, tmp_path / "compare.png")
    assert page.console == []
    assert [i["alt"] for i in page.images] == ["test loss curves"]
    assert page.images[0]["complete"] and page.images[0]["width"] > 0 and page.images[0]["scheme"] == "data"
    diff = {row[0]["text"]: [c["text"] for c in row[1:]] for row in page.tables["config-diff"]}
    assert diff == {"model.latent_dim": ["2", "3"]}
    figures = {row[0]["text"]: row[1:] for row in page.tables["figures"]}
    assert [float(c["value"]) for c in figures["final.test.loss"]] == [
        _final(tiny_runs.a)["test"]["loss"], _final(tiny_runs.b)["test"]["loss"],
    ]
    assert [c["text"] for c in figures["evaluation.elbo.bits_per_dim"]][1] == "-"
    assert page.screenshot.stat().st_size > 10_000
