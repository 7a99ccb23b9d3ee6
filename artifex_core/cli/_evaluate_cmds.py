"""``artifex evaluate``: every registered metric that applies, printed, and kept as ``RUN/evaluation.json``.

Progress goes to stderr (a live bar on a terminal, one plain line per step otherwise), so ``--json`` keeps
stdout pure JSON. Importing this module imports no JAX.

Example:
    $ artifex evaluate runs/vq --json > eval.json      # progress on stderr; runs/vq/evaluation.json too
    $ artifex evaluate runs/vq -m elbo -m iwae --k 5000
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from artifex_core.cli._errors import EXIT_FAILURE, UsageError, cli_errors, err_console, fail, load_run_or_exit, out_console

__all__ = ["EvaluateProgress", "evaluate_cmd", "register"]


class EvaluateProgress:
    """Tells on stderr what ``artifex evaluate`` is doing: a live bar on a terminal, plain lines otherwise.

    Implements :class:`artifex_core.training.EvaluationProgress`, plus :meth:`stage` for the steps
    before the metrics (loading the run, the data).

    Args:
        console: Where to write (stderr).
        show: False writes nothing (``--quiet``).
        live: A live bar; default: whether ``console`` is a terminal.

    Example:
        >>> import io
        >>> progress = EvaluateProgress(Console(file=io.StringIO(), width=80), live=False)
        >>> progress.start("iwae", 1, 2); progress.advance("iwae", 500, 1000); progress.finish("iwae", 0.25, True)
        >>> progress.console.file.getvalue().splitlines()
        ['evaluate: [1/2] iwae ...', 'evaluate: [1/2] iwae: 500/1,000 examples', 'evaluate: [1/2] iwae done in 0.2 s']
    """

    def __init__(self, console: Console, *, show: bool = True, live: bool | None = None) -> None:
        self.console, self.show = console, show
        self.live = bool(console.is_terminal if live is None else live) and show
        self._index, self._total = 0, 0
        self._bar: Progress | None = None
        self._task: Any = None
        self._inner: Any = None  # the bar of a long metric's own progress (advance)
        self._tenth = 0
        self._t0 = time.perf_counter()

    def _line(self, text: str) -> None:
        if self.show:
            self.console.print(f"evaluate: {text}", markup=False, highlight=False)

    def stage(self, text: str) -> None:
        """A step before the metrics run (``loading run ...``)."""
        if self.live and self._bar is None:
            self.console.print(f"[dim]{text}[/]", highlight=False)
        else:
            self._line(text)

    def start(self, name: str, index: int, total: int) -> None:
        """Metric ``name``, the ``index``-th of ``total``, starts."""
        self._index, self._total = index, total
        if not self.live:
            self._line(f"[{index}/{total}] {name} ...")
            return
        if self._bar is None:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=self.console, transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(name, total=total)
        self._bar.update(self._task, description=f"evaluating {name}", completed=index - 1)

    def advance(self, name: str, done: int, total: int) -> None:
        """Metric ``name`` did ``done`` of ``total`` units (examples): a second bar, or a line per 10%."""
        if not self.live:
            tenth = (10 * done) // max(total, 1)
            if tenth > self._tenth or done >= total:
                self._tenth = tenth
                self._line(f"[{self._index}/{self._total}] {name}: {done:,}/{total:,} examples")
            return
        if self._bar is None:
            return
        if self._inner is None:
            self._inner = self._bar.add_task(f"  {name} examples", total=total)
        self._bar.update(self._inner, completed=done, total=total)

    def finish(self, name: str, seconds: float, ok: bool) -> None:
        """Metric ``name`` ended after ``seconds``."""
        self._tenth = 0
        if self._bar is not None and self._inner is not None:
            self._bar.remove_task(self._inner)
        self._inner = None
        state = "done" if ok else "failed"
        if not self.live:
            self._line(f"[{self._index}/{self._total}] {name} {state} in {seconds:.1f} s")
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=self._index)
            self._bar.console.print(f"  {name} {state} in {seconds:.1f} s", markup=False, highlight=False)

    def close(self) -> None:
        """Stop the live bar (idempotent)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _figure_rows(figures: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``(figure, formatted value)`` rows of a metric's figures; nested dicts become dotted names."""
    rows: list[tuple[str, str]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += _figure_rows(value, f"{name}.")
        elif isinstance(value, bool) or value is None:
            rows.append((name, str(value).lower() if isinstance(value, bool) else "-"))
        elif isinstance(value, float):
            rows.append((name, f"{value:.4f}"))
        elif isinstance(value, (int, str)):
            rows.append((name, str(value)))
        else:
            rows.append((name, json.dumps(value, default=str)))
    return rows


def _print_report(report: dict[str, Any]) -> None:
    title = (
        f"{report['model']} on {report['dataset']} (epoch {report['checkpoint_epoch']}, "
        f"{report['test_examples']} test examples)"
    )
    table = Table(title=title, box=None, header_style="bold")
    table.add_column("metric")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for metric, figures in report["metrics"].items():
        if "error" in figures:
            rows = [("error", str(figures["error"]))]
        elif "skipped" in figures:
            rows = [("skipped", str(figures["skipped"]))]
        else:
            rows = _figure_rows(figures) or [("", "-")]
        for i, (figure, value) in enumerate(rows):
            table.add_row(metric if i == 0 else "", figure.replace("[", "\\["), value.replace("[", "\\["))
    out_console.print(table)


def _metric_options(given: list[str]) -> dict[str, dict[str, Any]]:
    """``NAME.KEY=VALUE`` strings as ``{name: {key: value}}`` (values read as JSON when they parse)."""
    options: dict[str, dict[str, Any]] = {}
    for item in given:
        key, eq, raw = item.partition("=")
        metric, dot, option = key.strip().rpartition(".")
        if not eq or not dot or not metric or not option:
            raise UsageError(f"--option must be METRIC.OPTION=VALUE (e.g. iwae.k=5000), got {item!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        options.setdefault(metric, {})[option] = value
    return options


def _tune_xla_for_run(run_dir: Path, enabled: bool) -> None:
    """The XLA:CPU flags of the run's model (from its config.json, no JAX), before JAX starts."""
    from artifex_core._xla_tuning import tune_xla
    from artifex_core.training._run_dir import RunDir, RunDirError

    try:
        model_part = RunDir(run_dir).read_config().get("model", {})
    except (RunDirError, OSError):  # not a run folder: loading it reports that properly
        return
    tune_xla(model_part, enabled=enabled)


def evaluate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `artifex train`.")],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Run only this registered metric (repeatable). \\[default: all that apply]"),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option("--k", min=0, help="Importance samples of the IWAE bound: option k of every metric that "
                     "takes one (0: skip it). \\[default: 1000]"),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="A metric's option, METRIC.OPTION=VALUE (repeatable), e.g. iwae.chunk=50."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use the first N test examples.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the importance and conditional samples.")] = 0,
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="latest, best or an epoch number.")] = "latest",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only on stdout (progress stays on stderr).")] = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not write RUN_DIR/evaluation.json.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    no_xla_tuning: Annotated[
        bool, typer.Option("--no-xla-tuning", help="Do not set the XLA:CPU flags measured fastest for the run's model.")
    ] = False,
) -> None:
    """Run every registered metric that applies to the run on its test split: test loss and its terms, ELBO
    and bits/dim, IWAE bound, active units; VQ: NMSE, perplexity, codes used; conditional: classifier accuracy
    of samples. The result is also written to RUN_DIR/evaluation.json (with the arguments used)."""
    with cli_errors():
        options = _metric_options(option or [])
        _tune_xla_for_run(run_dir, not no_xla_tuning)
        import logging

        logging.getLogger("absl").setLevel(logging.CRITICAL)  # errors are reported once, by cli_errors
        from artifex_core.training._compile_cache import enable_compile_cache

        enable_compile_cache()
        from artifex_core.data._dataset import DatasetError, DatasetUnavailableError
        from artifex_core.training._evaluate import MetricOptionError, evaluate_run, save_evaluation, select_metrics

        select_metrics(metric)  # an unknown name is a usage error before the run is loaded
        progress = EvaluateProgress(err_console, show=not quiet)
        progress.stage(f"loading {run_dir} (checkpoint {checkpoint}) ...")
        loaded = load_run_or_exit(run_dir, checkpoint)
        progress.stage(f"loaded epoch {loaded.epoch}; loading the test split ...")

        def on_error(name: str, exc: BaseException) -> None:
            if os.environ.get("ARTIFEX_DEBUG"):
                err_console.print("".join(traceback.format_exception(exc)), markup=False)
            message = " ".join(f"{type(exc).__name__}: {exc}".split()).replace("[", "\\[")
            err_console.print(f"[bold yellow]warning:[/] metric {name!r} failed: {message}", highlight=False)

        shared: dict[str, Any] = {} if k is None else {"k": k}
        try:
            report = evaluate_run(
                loaded, metrics=metric, options=options, limit=limit, seed=seed, progress=progress,
                on_error=on_error, **shared,
            )
        except MetricOptionError as exc:
            raise UsageError(str(exc)) from None
        except DatasetUnavailableError as exc:
            raise fail(str(exc).replace("[", "\\["), EXIT_FAILURE) from None
        except DatasetError as exc:
            raise UsageError(str(exc)) from None
        finally:
            progress.close()
        arguments = {"metrics": metric or None, "options": options, "k": k, "limit": limit, "seed": seed,
                     "checkpoint": checkpoint}
        if no_save:
            from artifex_core.training._evaluate import json_safe

            report = json_safe({**report, "arguments": arguments})
        else:
            try:
                report, path = save_evaluation(report, arguments)
                progress.stage(f"wrote {path}")
            except OSError as exc:
                err_console.print(f"[bold yellow]warning:[/] could not write evaluation.json: {exc}", highlight=False)
        if as_json:
            typer.echo(json.dumps(report, indent=2, default=str))
        else:
            _print_report(report)
        if report["failed"]:
            raise typer.Exit(EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command("evaluate")(evaluate_cmd)
