"""`artifex report` and `artifex compare` through the CLI: outputs, JSON, exit codes and error messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from artifex_core.cli import app

runner = CliRunner()


def test_report_writes_the_page_in_the_run_folder_or_where_asked(tiny_runs, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_runs.a, run)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {run / 'report.html'}"
    assert (run / "report.html").read_text().startswith("<!DOCTYPE html>")
    other = runner.invoke(app, ["report", str(run), "-o", str(tmp_path / "out" / "page.html")])
    assert other.exit_code == 0 and (tmp_path / "out" / "page.html").is_file()


def test_report_usage_errors(tmp_path: Path, tiny_runs) -> None:
    for args, message in (
        ([str(tmp_path)], f"'{tmp_path}' is not a run folder: it has no config.json"),
        ([str(tmp_path / "nope")], f"run folder '{tmp_path / 'nope'}' does not exist"),
        ([str(tiny_runs.a), "-o", str(tmp_path / "page.png")], "-o/--output must be an .html file"),
    ):
        result = runner.invoke(app, ["report", *args])
        assert result.exit_code == 2 and message in result.stderr, result.output
        assert "Traceback" not in result.output


def test_compare_json_and_html(tiny_runs, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", str(tiny_runs.a), str(tiny_runs.b), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["config_diff"] == {"model.latent_dim": [2, 3]}
    assert data["figures"]["evaluation.elbo.neg_elbo"] == [tiny_runs.evaluation["metrics"]["elbo"]["neg_elbo"], None]
    page = tmp_path / "compare.html"
    table = runner.invoke(app, ["compare", str(tiny_runs.a), str(tiny_runs.b), "-o", str(page)])
    assert table.exit_code == 0, table.output
    assert "model.latent_dim" in table.stdout and "final.test.loss" in table.stdout
    assert f"wrote {page}" in table.stdout and "data:image/svg+xml;base64," in page.read_text()


def test_compare_usage_errors(tiny_runs, tmp_path: Path) -> None:
    for args, message in (
        ([str(tiny_runs.a)], "compare needs at least two run folders, got 1"),
        ([str(tiny_runs.a), str(tmp_path)], f"'{tmp_path}' is not a run folder: it has no config.json"),
        ([str(tiny_runs.a), str(tiny_runs.b), "-o", str(tmp_path / "c.txt")], "-o/--output must be an .html file"),
    ):
        result = runner.invoke(app, ["compare", *args])
        assert result.exit_code == 2 and message in result.stderr, result.output
        assert "Traceback" not in result.output
