"""``artifex train``'s multi-process flags: bad combinations are usage errors (exit 2) naming the flag."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from artifex_core.cli._app import app


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--num-processes", "2"], {}, "--num-processes is given but --coordinator"),
        (["--coordinator", "127.0.0.1:1", "--num-processes", "2", "--process-id", "2"], {},
         "--process-id 2 must be below --num-processes 2"),
        ([], {"JAX_COORDINATOR_ADDRESS": "127.0.0.1:1", "JAX_NUM_PROCESSES": "2"},
         "--process-id (or JAX_PROCESS_ID) is not"),
        (["--distributed", "maybe"], {}, "--distributed must be one of auto, off, got 'maybe'"),
        (["--coordinator", "127.0.0.1:1", "--num-processes", "2", "--process-id", "0"], {},
         "a multi-process run needs --out RUN_DIR"),
        (["--distributed-timeout", "-1", "--coordinator", "127.0.0.1:1", "--num-processes", "2", "--process-id", "0"],
         {}, "--distributed-timeout must be a positive number of seconds, got -1"),
    ],
)
def test_bad_multi_process_flags_are_usage_errors(args: list[str], env: dict, message: str) -> None:
    result = CliRunner().invoke(app, ["train", *args], env={"JAX_COORDINATOR_ADDRESS": None, "JAX_NUM_PROCESSES": None,
                                                           "JAX_PROCESS_ID": None, **env})
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_help_lists_the_multi_process_flags() -> None:
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    for flag in ("--coordinator", "--num-processes", "--process-id", "--distributed", "--distributed-timeout"):
        assert flag in result.output
