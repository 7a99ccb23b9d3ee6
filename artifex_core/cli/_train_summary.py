"""What ``artifex train`` prints when a run ends: the summary (``--json``) and the table of epochs.

Example:
    >>> # run = run_plan(plan)
    >>> # print_summary(run, run_summary(run))   # the table, the run folder, the best epoch, the time
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from artifex_core.cli._errors import out_console

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core.training._run import TrainingRun

__all__ = ["print_summary", "run_summary"]


def run_summary(run: TrainingRun) -> dict[str, Any]:
    """The run's summary: its folder, model, data, final and best epochs, time and pictures (JSON-ready)."""
    result, records = run.result, run.run_dir.read_metrics()
    best = next((r for r in records if r.get("epoch") == result.best_epoch), None)
    return {
        "run_dir": str(run.run_dir.path),
        "model": run.model_config.model,
        "dataset": run.dataset.name,
        "epochs": run.train_config.epochs,
        "resumed_from_epoch": result.start_epoch,
        "final": result.final or (records[-1] if records else {}),
        "best_epoch": result.best_epoch,
        "best_test": (best or {}).get("test"),
        "elapsed_s": round(result.elapsed_s, 3),
        "pictures": [p.name for p in run.pictures] + (["curves.png"] if (run.run_dir.path / "curves.png").is_file() else []),
    }


def print_summary(run: TrainingRun, summary: dict[str, Any]) -> None:
    """Print the epochs' table (a terminal: the first 2 and last 10), then the summary's run folder, best epoch,
    pictures and time."""
    records = run.run_dir.read_metrics()
    # a terminal gets the first 2 and last 10 epochs; a pipe or a file (a log) gets every epoch, unwrapped
    terminal = out_console.is_terminal
    shown = records if len(records) <= 12 or not terminal else records[:2] + records[-10:]
    terms = sorted({k for r in shown for k in r.get("test", {}) if k != "loss"})
    hidden = len(records) > len(shown)
    caption = f"epochs {records[2]['epoch']}-{records[-11]['epoch']} not shown: see metrics.jsonl" if hidden else None
    table = Table(title="training summary", box=None, header_style="bold", caption=caption)
    for col in ("epoch", "train loss", "test loss", *[f"test {t}" for t in terms], "time s", "ex/s"):
        table.add_column(col, justify="right", no_wrap=not terminal)
    nan = float("nan")
    for r in shown:
        test = r.get("test", {})
        table.add_row(
            str(r["epoch"]), f"{r['train'].get('loss', nan):.3f}", f"{test.get('loss', nan):.3f}",
            *[f"{test.get(t, nan):.3f}" for t in terms], f"{r.get('epoch_time_s', 0):.1f}",
            f"{r.get('examples_per_s', 0):,.0f}",
        )
    if terminal:
        out_console.print(table)
    else:  # a pipe or a file has no width to fit: print the table at its natural width, nothing cut
        from rich.console import Console

        Console(file=out_console.file, width=10_000, highlight=False).print(table)
    out_console.print(f"run folder: {summary['run_dir']}")
    if summary["best_epoch"] is not None and summary["best_test"]:
        out_console.print(f"best epoch: {summary['best_epoch']} (test loss {summary['best_test'].get('loss', nan):.3f})")
    if summary["pictures"]:
        out_console.print(f"pictures: {', '.join(summary['pictures'])}")
    out_console.print(f"time: {summary['elapsed_s']:.1f} s")
