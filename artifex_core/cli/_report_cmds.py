"""``artifex report`` and ``artifex compare``: a run's self-contained HTML page, and runs side by side.

Both read run folders only (no JAX); a folder that is not a run is a usage error (exit 2) naming it.

Example:
    $ artifex report runs/vae                     # runs/vae/report.html
    $ artifex compare runs/vae runs/beta --json
    $ artifex compare runs/vae runs/beta -o compare.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from artifex_core.cli._errors import UsageError, cli_errors, out_console

__all__ = ["compare_cmd", "register", "report_cmd"]


def _check_html(out: Path | None) -> None:
    if out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o/--output must be an .html file, got {str(out)!r}")


def _run_error(exc: Exception) -> UsageError:
    return UsageError(str(exc))


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `artifex train`.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="HTML file to write. \\[default: RUN_DIR/report.html]")
    ] = None,
) -> None:
    """Write one self-contained HTML page of a run: config, final and best metrics, loss curves, samples,
    reconstructions, traversals, evaluation and the versions that made it. Opens from disk in a browser."""
    with cli_errors():
        _check_html(output)
        from artifex_core.report._html import write_report
        from artifex_core.training._run_dir import RunDirError

        try:
            path = write_report(run_dir, output)
        except RunDirError as exc:
            raise _run_error(exc) from None
        out_console.print(f"wrote {path}", markup=False)


def _cell(value: Any) -> str:
    from artifex_core.report._html import fmt

    return fmt(value).replace("[", "\\[")


def _print_comparison(data: dict[str, Any]) -> None:
    labels = [r["label"] for r in data["runs"]]
    for title, rows in (("config fields that differ", data["config_diff"]), ("metrics", data["figures"])):
        table = Table(title=title, box=None, header_style="bold")
        table.add_column("field" if rows is data["config_diff"] else "figure")
        for label in labels:
            table.add_column(label.replace("[", "\\["), justify="right")
        for name, values in rows.items():
            table.add_row(name.replace("[", "\\["), *[_cell(v) for v in values])
        if not rows:
            table.add_row("(none)", *["" for _ in labels])
        out_console.print(table)


def compare_cmd(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run folders written by `artifex train`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write an HTML page, with the test losses overlaid.")
    ] = None,
) -> None:
    """Compare runs: the config fields that differ, and their final, best and evaluation metrics."""
    with cli_errors():
        if len(run_dirs) < 2:
            raise UsageError(f"compare needs at least two run folders, got {len(run_dirs)}")
        _check_html(output)
        from artifex_core._atomic import atomic_write
        from artifex_core.report._compare import compare_runs, render_compare
        from artifex_core.training._run_dir import RunDirError

        try:
            comparison = compare_runs(run_dirs)
        except RunDirError as exc:
            raise _run_error(exc) from None
        data = comparison.to_json()
        if output is not None:
            path = atomic_write(output, render_compare(comparison))
            data["html"] = str(path)
        if as_json:
            typer.echo(json.dumps(data, indent=2, default=str))
            return
        _print_comparison(data)
        if output is not None:
            out_console.print(f"wrote {data['html']}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``compare`` to ``app``."""
    app.command("report")(report_cmd)
    app.command("compare")(compare_cmd)
