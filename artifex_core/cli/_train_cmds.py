"""``artifex train``: read the configs, join a multi-process run, plan and run it. Importing this module
imports no JAX.

What it prints when the run ends is :mod:`~artifex_core.cli._train_summary`'s; ``artifex sample`` is
:mod:`~artifex_core.cli._sample_cmds`.

Example:
    $ artifex train                                   # the default MLP VAE on the packaged MNIST
    $ artifex train --model vqvae --epochs 5 --out runs/vq
    $ artifex train --resume --out runs/vq            # continue a killed run where it stopped
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from artifex_core.cli._errors import EXIT_FAILURE, CliFailure, UsageError, cli_errors, err_console, fail
from artifex_core.cli._jax_setup import quiet_absl, setup_jax
from artifex_core.cli._train_summary import print_summary, run_summary

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
    quiet_absl()
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

    quiet_absl()
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
    setup_jax(no_compile_cache)
    from artifex_core.training._manifest import CheckpointError
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
    summary = run_summary(run)
    if as_json:
        _echo_json(summary)
    elif not quiet:
        print_summary(run, summary)


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app`` (``sample``: :mod:`artifex_core.cli._sample_cmds`; ``evaluate``:
    :mod:`artifex_core.cli._evaluate_cmds`)."""
    app.command("train")(train_cmd)
