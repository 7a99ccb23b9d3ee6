"""``artifex sample``: draw images from a trained run and save them as a PNG grid. Importing this module
imports no JAX.

Example:
    $ artifex sample runs/vq -n 64 -o samples.png
    $ artifex sample runs/mnist --sampler gmm --sampler-option n_components=10
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from artifex_core.cli._errors import UsageError, cli_errors, load_run_or_exit, out_console
from artifex_core.cli._jax_setup import setup_jax

__all__ = ["register"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
CheckpointOption = Annotated[str, typer.Option("--checkpoint", help="latest, best or an epoch number.")]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


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
        setup_jax(False)
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
    """Add ``sample`` to ``app``."""
    app.command("sample")(sample_cmd)
