"""Every help page shows plain flags as flags (issue #12): ``--json``, never ``--json <bool>``."""

from __future__ import annotations

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from artifex_core.cli import app
from artifex_core.cli._app import add_plugin_commands


@pytest.mark.filterwarnings("ignore:plugin 'broken_commands'")  # the test suite's broken plugin, on purpose
def test_no_help_page_shows_a_type_for_a_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    # the installed plugins' commands too, on this test's copy of the command lists (other tests see the built-ins)
    monkeypatch.setattr(app, "registered_commands", list(app.registered_commands))
    monkeypatch.setattr(app, "registered_groups", list(app.registered_groups))
    add_plugin_commands(app)
    group = typer.main.get_command(app)
    runner = CliRunner()
    pages = {"artifex": runner.invoke(app, ["--help"])}
    pages.update({name: runner.invoke(app, [name, "--help"]) for name in group.commands})
    assert {"train", "sample", "evaluate", "list", "build", "validate"} <= set(pages)
    for name, result in pages.items():
        assert result.exit_code == 0, (name, result.output)
        assert "<bool>" not in result.output, f"`{name} --help` shows a type for a flag:\n{result.output}"
        assert "--help" in result.output
    train = pages["train"].output
    assert "<path>" in train and "<float>" in train  # options that take a value keep their type
    resume = next(line for line in train.splitlines() if "--resume" in line)
    assert "Continue the run" in resume and "<" not in resume
    flags = [p for p in group.commands["train"].params if isinstance(p, TyperOption) and p.is_flag]
    assert {p.name for p in flags} >= {"resume", "as_json", "quiet", "no_compile_cache"}


def test_flags_still_parse_as_flags() -> None:
    result = CliRunner().invoke(app, ["list", "models", "--json"])
    assert result.exit_code == 0 and result.output.lstrip().startswith("{")
