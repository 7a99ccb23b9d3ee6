"""``artifex train`` and ``sample``. Importing this module imports no JAX.

Example:
    $ artifex train                                   # the default MLP VAE on the packaged MNIST
    $ artifex train --model vqvae --epochs 5 --out runs/vq
    $ artifex train --resume --out runs/vq            # continue a killed run where it stopped
    $ artifex sample runs/vq -n 64 -o samples.png
    $ artifex sample runs/mnist --sampler gmm --sampler-option n_components=10
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from artifex_core.cli._errors import EXIT_FAILURE, CliFailure, UsageError, cli_errors, err_console, fail, load_run_or_exit, out_console

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core.training._run import TrainingRun

__all__ = ["register"]

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a field: key=value. Train fields (epochs, lr, ...) or 'train.KEY' go to the train config, "
        "everything else to the model config (dotted keys reach into parameters).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
CheckpointOption = Annotated[str, typer.Option("--checkpoint", help="latest, best or an epoch number.")]


def _failure(message: str) -> typer.Exit:
    """Print ``error: message`` and return the exit (code 1) to raise."""
    return fail(message.replace("[", "\\["), EXIT_FAILURE)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _default_out(model: str, dataset: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = Path(dataset).stem if "/" in dataset or dataset.endswith(".npz") else dataset
    model = model.rpartition(":")[2]  # a qualified id's short name: no ':' in the folder name
    return Path("runs") / f"{model}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{stamp}"


def _quiet_absl() -> None:
    import logging

    logging.getLogger("absl").setLevel(logging.CRITICAL)  # errors are reported once, by cli_errors


def _setup_jax(no_compile_cache: bool) -> None:
    _quiet_absl()
    if not no_compile_cache:
        from artifex_core.training._compile_cache import enable_compile_cache

        enable_compile_cache()


def _train_config(train_part: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    from artifex_core.training._config import TrainConfig

    try:
        return TrainConfig.model_validate(train_part)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if loc:
                got = f" (got {err.get('input')!r})" if err["type"] != "value_error" else ""
                line = f"train.{loc}: {msg}{got}"
            else:
                line = f"train.{msg}" if ":" in msg.split(" ")[0] else f"train: {msg}"
            err_console.print(f"[bold red]error:[/] {line.replace('[', chr(92) + '[')}", highlight=False)
        raise typer.Exit(2) from None


def _summary(run: TrainingRun) -> dict[str, Any]:
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


def _print_summary(run: TrainingRun, summary: dict[str, Any]) -> None:
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


def train_cmd(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Model config (+ a train: section): .json, .yaml, .toml.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Registered model, trained with its recipe. \\[default: vae]")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Registered dataset or a .npz / image folder. \\[default: the recipe's]")
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", "-e", min=1, help="Epochs. \\[default: 100]")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", "-b", min=1, help="Batch size. \\[default: 64]")] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Peak learning rate. \\[default: 2e-3]")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of everything random. \\[default: 0]")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder. \\[default: runs/MODEL-DATA-TIME]")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out from its last checkpoint.")] = False,
    overrides: SetOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use the first N examples of each split.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary only (no progress).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    no_compile_cache: Annotated[
        bool, typer.Option("--no-compile-cache", help="Skip the XLA compilation cache (or ARTIFEX_NO_COMPILE_CACHE=1).")
    ] = False,
    logger: Annotated[
        list[str] | None,
        typer.Option(
            "--logger",
            help="Attach a registered logger (repeatable or comma-separated; `artifex list loggers`). Its options "
            "come from the config's train.loggers mapping; --resume keeps the run's loggers and adds these.",
        ),
    ] = None,
    coordinator: Annotated[
        str | None,
        typer.Option("--coordinator", help="Multi-process run: HOST:PORT of process 0 (or JAX_COORDINATOR_ADDRESS).",
                     rich_help_panel="Multi-process"),
    ] = None,
    num_processes: Annotated[
        int | None,
        typer.Option("--num-processes", help="Multi-process run: processes in all (or JAX_NUM_PROCESSES).",
                     rich_help_panel="Multi-process"),
    ] = None,
    process_id: Annotated[
        int | None,
        typer.Option("--process-id", help="Multi-process run: this process, 0..N-1 (or JAX_PROCESS_ID).",
                     rich_help_panel="Multi-process"),
    ] = None,
    distributed: Annotated[
        str | None,
        typer.Option("--distributed", help="auto: JAX detects the cluster (SLURM, Open MPI, Cloud TPU); off: one "
                     "process, JAX_* variables ignored.", rich_help_panel="Multi-process"),
    ] = None,
    distributed_timeout: Annotated[
        float | None,
        typer.Option("--distributed-timeout", help="Seconds to wait for the coordinator and every process "
                     "(or ARTIFEX_DISTRIBUTED_TIMEOUT). \\[default: 300]", rich_help_panel="Multi-process"),
    ] = None,
    no_xla_tuning: Annotated[
        bool,
        typer.Option(
            "--no-xla-tuning",
            help="Do not set the XLA:CPU flags measured fastest for this model (or ARTIFEX_XLA_TUNING=off); "
            "a user's XLA_FLAGS always wins.",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print the XLA flags chosen.")] = False,
) -> None:
    """Train a model and write a run folder: config.json, metrics.jsonl, checkpoints/ and pictures.

    With no options: the default Bernoulli MLP VAE on the packaged MNIST. A multi-process run starts the same
    command once per process, each with its --process-id (see docs/scale.md); process 0 writes the run folder.
    """
    with cli_errors():
        main = _join_distributed(coordinator, num_processes, process_id, distributed, distributed_timeout, out)
        if not main:  # the other processes print errors only: process 0 reports the run
            quiet, as_json = True, False
        try:
            _train_cmd(config, model, dataset, epochs, batch_size, lr, seed, out, resume, overrides, limit, as_json,
                       quiet, no_compile_cache, logger, main, no_xla_tuning, verbose)
        except Exception as exc:  # before the plan is agreed on, tell the other processes (no-op otherwise)
            from artifex_core.training._distributed import agree

            agree("plan", str(exc) or f"{type(exc).__name__} (see its own output)")
            raise


def _train_cmd(
    config: Path | None, model: str | None, dataset: str | None, epochs: int | None, batch_size: int | None,
    lr: float | None, seed: int | None, out: Path | None, resume: bool, overrides: list[str] | None,
    limit: int | None, as_json: bool, quiet: bool, no_compile_cache: bool, logger: list[str] | None, main: bool,
    no_xla_tuning: bool = False, verbose: bool = False,
) -> None:
    """``artifex train`` once the process has joined its run (if any): read the configs, then :func:`_train`."""
    from artifex_core._config_files import read_config_file
    from artifex_core.training._overrides import apply_sets, split_config
    from artifex_core.training._recipes import recipe
    from artifex_core.training._run_dir import RunDir, RunDirError
    from artifex_core.training._run_lock import RunLock

    if resume:
        if out is None:
            raise UsageError("--resume needs --out RUN_DIR (the run folder to continue)")
        given = [flag for flag, v in (("--config", config), ("--model", model), ("--dataset", dataset)) if v]
        if given:
            raise UsageError(f"--resume continues the run's own config; drop {', '.join(given)}")
        run = RunDir(out)
        try:
            if main:  # process 0 takes the lock; the others only read the folder
                RunLock(out).check_free()
            run.check_trainable(resume=True)  # someone's folder is refused before its files are read
            if run.path.is_dir() and not run.config_path.exists():
                raise RunDirError(
                    f"nothing to resume in {str(run.path)!r}: it has no config.json yet (the run stopped "
                    "before it started); run the same command again without --resume"
                )
            model_part, train_part = split_config(run.read_config())
        except RunDirError as exc:
            raise UsageError(f"cannot resume: {exc}") from None
    elif config is not None:
        model_part, file_train = split_config(read_config_file(config))
        if model is not None:
            model_part["model"] = model
        train_part = {**_recipe(recipe, model_part.get("model"))[1], **file_train}
    else:
        model_part, train_part = _recipe(recipe, model)
    flags = {"dataset": dataset, "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "limit": limit}
    train_part.update({k: v for k, v in flags.items() if v is not None})
    model_part, train_part = apply_sets(model_part, train_part, overrides or [])
    if logger:
        from artifex_core.training._loggers import logger_names

        attached = dict(train_part.get("loggers") or {})
        for name in logger_names(logger):
            attached.setdefault(name, {})
        train_part["loggers"] = attached
    _tune_xla(model_part, not no_xla_tuning, verbose and not (as_json or quiet))
    _train(model_part, _train_config(train_part), out, resume, as_json, quiet, no_compile_cache)


def _join_distributed(
    coordinator: str | None, num_processes: int | None, process_id: int | None, mode: str | None,
    timeout_s: float | None, out: Path | None,
) -> bool:
    """Join a multi-process run when the flags or ``JAX_*`` variables ask for one; True in process 0.

    Runs before anything touches a device. Bad settings are usage errors (exit 2) naming the flag; a
    coordinator that cannot be reached ends the process with one line and exit 1 within the timeout.
    """
    from artifex_core.training._distributed import (
        DistributedConfigError, DistributedInitError, initialize_distributed, resolve_distributed,
    )

    try:
        spec = resolve_distributed(coordinator, num_processes, process_id, mode, timeout_s)
    except DistributedConfigError as exc:
        raise UsageError(str(exc)) from None
    if spec is None:
        return True
    if out is None:
        raise UsageError("a multi-process run needs --out RUN_DIR: every process must name the same run folder")
    _quiet_absl()
    _keep_stdout_for_python()
    try:
        initialize_distributed(spec)
    except DistributedInitError as exc:
        raise CliFailure(str(exc)) from None
    import jax

    return jax.process_index() == 0


def _keep_stdout_for_python() -> None:
    """Send what C++ prints on file descriptor 1 (gloo's connection notes) to stderr, keeping stdout for
    Python's own output: ``--json`` stays parseable in a multi-process run."""
    import os
    import sys

    try:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
    except (OSError, ValueError, AttributeError):  # no real file descriptors (an in-process test runner)
        return
    sys.stdout = os.fdopen(saved, "w", buffering=1, encoding=getattr(sys.stdout, "encoding", None) or "utf-8")


def _tune_xla(model_part: Any, enabled: bool, verbose: bool) -> None:
    """Set the model's XLA:CPU flags before JAX starts (the planner starts it); print the choice if ``verbose``."""
    from artifex_core._xla_tuning import tune_xla

    tuning = tune_xla(model_part, enabled=enabled)
    if verbose:
        err_console.print(escape(tuning.describe()), highlight=False)
        for note in tuning.notes:
            err_console.print(f"  {escape(note)}", highlight=False)


def _recipe(recipe: Any, model: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``recipe(model)``; a registered recipe of the wrong shape is the plugin's failure (exit 1)."""
    from artifex_core.training._recipes import RecipeError

    try:
        return recipe(model)
    except RecipeError as exc:
        raise CliFailure(str(exc)) from None


def _train(model_part: dict[str, Any], train_cfg: Any, out: Path | None, resume: bool, as_json: bool, quiet: bool,
           no_compile_cache: bool) -> None:
    """Plan the run (every check, nothing written), then execute it with a progress bar."""
    from artifex_core._config import ModelConfig
    from artifex_core.data._dataset import DatasetError, DatasetUnavailableError
    from artifex_core.training._config import TrainConfigError
    from artifex_core.training._plan import RunSetupError, plan_run
    from artifex_core.training._run_dir import RunDirError

    _quiet_absl()
    default_model = ModelConfig.model_fields["model"].default
    run_dir = out or _default_out(str(model_part.get("model", default_model)), train_cfg.dataset)
    from artifex_core.training._distributed import DistributedStepError, agree

    try:  # unknown logger names, someone's folder, data that do not fit: usage errors, before anything is built
        plan = plan_run(model_part, train_cfg, run_dir, resume=resume)
    except DatasetUnavailableError as exc:
        raise _failure(str(exc)) from None
    except (RunDirError, DatasetError, RunSetupError, TrainConfigError) as exc:
        raise UsageError(str(exc)) from None
    # A multi-process run goes on only when every process planned it (process 0 alone checked the folder); a
    # failure before this point is reported to the others by train_cmd.
    try:
        agree("plan")
    except DistributedStepError as exc:
        raise _failure(str(exc)) from None
    if not (quiet or resume):  # named before training, not when it ends: the folder to watch or to --resume
        err_console.print(f"run folder: {escape(str(plan.run_dir.path))}", highlight=False)
    _setup_jax(no_compile_cache)
    from artifex_core.training._checkpoint import CheckpointError
    from artifex_core.training._progress import RichProgress
    from artifex_core.training._run import run_plan
    from artifex_core.training._trainer import NonFiniteLossError

    progress = RichProgress(train_cfg.epochs, console=err_console, show=not (as_json or quiet))
    try:
        run = run_plan(plan, callbacks=[progress])
    except NonFiniteLossError as exc:
        raise _failure(str(exc)) from None
    except (TrainConfigError, RunDirError, DatasetError) as exc:  # optimizer options; a folder taken since planned
        raise UsageError(str(exc)) from None
    except CheckpointError as exc:  # --resume found only damaged checkpoints
        raise _failure(str(exc)) from None
    finally:
        progress.close()
    summary = _summary(run)
    if as_json:
        _echo_json(summary)
    elif not quiet:
        _print_summary(run, summary)


def _sampler_options(given: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as a dict (values read as JSON when they parse, else kept as text)."""
    options: dict[str, Any] = {}
    for item in given:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--sampler-option must be KEY=VALUE (e.g. n_components=10), got {item!r}")
        try:
            options[key.strip()] = json.loads(raw)
        except ValueError:
            options[key.strip()] = raw
    return options


def sample_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `artifex train`.")],
    n: Annotated[
        int | None,
        typer.Option("-n", "--num", min=1, help="Number of samples. \\[default: 64; conditional: 10 per class]"),
    ] = None,
    temperature: Annotated[float, typer.Option("--temperature", "-t", help="Prior temperature (> 0).")] = 1.0,
    label: Annotated[
        int | None, typer.Option("--label", "-l", help="Class of every sample (conditional models; default: all).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="PNG to write. \\[default: RUN_DIR/sample.png]")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    nrow: Annotated[
        int | None, typer.Option("--nrow", min=1, help="Images per row (conditional: per class). \\[default: 8]")
    ] = None,
    checkpoint: CheckpointOption = "latest",
    sampler: Annotated[
        str | None,
        typer.Option("--sampler", help="A registered sampler (`artifex list samplers`): prior, gmm, ... "
                     "\\[default: the model's own, else prior]"),
    ] = None,
    sampler_option: Annotated[
        list[str] | None,
        typer.Option("--sampler-option", help="A sampler option KEY=VALUE (repeatable), e.g. n_components=10."),
    ] = None,
    refit: Annotated[bool, typer.Option("--refit", help="Fit the sampler again even when its cached state matches.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Draw samples from a trained run and save them as a PNG grid (conditional: one row per class). A fitted
    sampler (gmm) is fitted once on the training images and cached in RUN_DIR/samplers/."""
    with cli_errors():
        sampler_options = _sampler_options(sampler_option or [])
        if sampler is not None:
            from artifex_core._registry import samplers

            samplers.entry(sampler)  # an unknown name is a usage error (with "did you mean") before loading
        if temperature <= 0:
            raise UsageError(f"--temperature must be > 0, got {temperature}")
        if output is not None and output.suffix.lower() != ".png":
            raise UsageError(f"--output must be a .png file, got {str(output)!r}")
        _setup_jax(False)
        import numpy as np

        from artifex_core.training._pictures import class_grid
        from artifex_core._visualize import save_image_grid

        loaded = load_run_or_exit(run_dir, checkpoint)
        mcfg, labels = loaded.model_config, None
        if mcfg.conditional:
            classes = int(mcfg.num_classes or 0)
            if label is not None and not 0 <= label < classes:
                raise UsageError(f"--label must lie in 0..{classes - 1}, got {label}")
            if label is None:  # one row per class, the same number of samples in each
                try:
                    labels, nrow = class_grid(classes, n, nrow)
                except ValueError as exc:
                    raise UsageError(f"{exc}; or draw one class with --label") from None
                n = len(labels)
            else:
                labels = np.full(n or 64, label)
        elif label is not None:
            raise UsageError(f"--label needs a conditional model; {mcfg.model!r} is not conditional")
        n, nrow = n or 64, nrow or 8
        from artifex_core._sampler import SamplerError
        from artifex_core.training._sampling import draw_samples

        try:
            drawn = draw_samples(loaded, n, sampler=sampler, options=sampler_options, seed=seed,
                                 temperature=temperature, labels=labels, refit=refit)
        except SamplerError as exc:
            raise UsageError(str(exc)) from None
        path = save_image_grid(drawn.images, output or loaded.run_dir.path / "sample.png", nrow=nrow)
        info = {"path": str(path), "n": n, "temperature": temperature, "label": label, "checkpoint_epoch": loaded.epoch,
                "sampler": drawn.sampler, "sampler_options": drawn.options, "fitted": drawn.fitted,
                "sampler_state": None if drawn.state_path is None else str(drawn.state_path)}
        if as_json:
            _echo_json(info)
        else:
            how = drawn.sampler.rpartition(":")[2]
            if drawn.state_path is not None:
                how += ", fitted now" if drawn.fitted else ", cached fit"
            out_console.print(f"wrote {path} ({n} samples, sampler {how}, temperature {temperature}, epoch {loaded.epoch})")


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``sample`` to ``app`` (``evaluate``: :mod:`artifex_core.cli._evaluate_cmds`)."""
    app.command("train")(train_cmd)
    app.command("sample")(sample_cmd)
