"""``artifex build``, ``validate`` and ``schema``: check configs and build models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from artifex_core.cli._errors import UsageError, cli_errors, out_console
from artifex_core._config import ModelConfig, load_config
from artifex_core._config_files import read_config_file

__all__ = ["build_summary", "register"]

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a field: key=value (dotted keys reach into parameters)."),
]


def _config_from(name: str | None, config: Path | None, overrides: list[str] | None) -> ModelConfig:
    if (name is None) == (config is None):
        raise UsageError("give either a model NAME or --config FILE (not both)")
    if config is None:
        return load_config(None, overrides or (), model=name)
    data = read_config_file(config)
    if "train" in data:  # a training config (`artifex train --config`): its train: section is checked too
        from artifex_core.cli._train_cmds import _train_config
        from artifex_core.training._overrides import split_config

        data, train_part = split_config(data)
        _train_config(train_part)
    return load_config(None, overrides or (), **data)


def build_summary(cfg: ModelConfig, seed: int = 0) -> dict[str, Any]:
    """Build ``cfg``, run one forward pass and the loss on zeros; report parameter counts and shapes."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from artifex_core._factory import create_model

    # An nnx.Module that is also a GenerativeModel: its loss_fn (and y= when conditional) are the plugin's.
    model: Any = create_model(cfg, rngs=nnx.Rngs(seed))
    x = jnp.zeros((2, *cfg.input_dim), jnp.float32)
    if cfg.conditional:
        y = jnp.zeros((2,), jnp.int32)
        outputs = model(x, y=y)
        losses = model.loss_fn(batch={"x": x, "y": y}, step=0)
    else:
        outputs = model(x)
        losses = model.loss_fn(batch=x, step=0)
    params = nnx.state(model, nnx.Param)
    per_module: dict[str, int] = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        top = str(getattr(path[0], "key", getattr(path[0], "name", path[0])))
        per_module[top] = per_module.get(top, 0) + int(leaf.size)
    return {
        "model": type(model).__name__,
        "config": cfg.model_dump(mode="json"),
        "parameters": {"total": sum(per_module.values()), "per_module": per_module},
        "outputs": {k: list(getattr(v, "shape", ())) for k, v in outputs.items()},
        "losses": {k: float(v) for k, v in losses.items() if getattr(v, "ndim", 1) == 0},
    }


def build_cmd(
    name: Annotated[str | None, typer.Argument(help="Registered model name (or use --config).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="A .json, .yaml or .toml config.")] = None,
    overrides: SetOption = None,
    seed: Annotated[int, typer.Option(help="Initialization seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Build a model, run one forward pass and the loss on zeros, print parameter counts and shapes."""
    with cli_errors():
        cfg = _config_from(name, config, overrides)
        summary = build_summary(cfg, seed)
        if as_json:
            typer.echo(json.dumps(summary, indent=2))
            return
        out_console.print(f"[bold]{summary['model']}[/] ({cfg.model}): {summary['parameters']['total']:,} parameters")
        table = Table(box=None, header_style="bold")
        table.add_column("module")
        table.add_column("parameters", justify="right")
        for module, count in summary["parameters"]["per_module"].items():
            table.add_row(module, f"{count:,}")
        out_console.print(table)
        shapes = Table(box=None, header_style="bold")
        shapes.add_column("output")
        shapes.add_column("shape")
        for key, shape in summary["outputs"].items():
            shapes.add_row(key, str(tuple(shape)))
        out_console.print(shapes)
        out_console.print("losses on zeros: " + ", ".join(f"{k}={v:.4g}" for k, v in summary["losses"].items()))


def validate_cmd(
    config: Annotated[Path, typer.Argument(help="A .json, .yaml or .toml config.")],
    overrides: SetOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the resolved config as JSON.")] = False,
) -> None:
    """Check a config file (its train: section too); print the resolved config, or one line per problem (exit 2)."""
    with cli_errors():
        cfg = _config_from(None, config, overrides)
        if as_json:
            typer.echo(cfg.model_dump_json(indent=2))
        else:
            out_console.print(f"[green]ok[/]: {config} is a valid {cfg.model!r} config")


def schema_cmd(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON schema of ModelConfig."""
    with cli_errors():
        text = json.dumps(ModelConfig.model_json_schema(), indent=2)
        if output is None:
            typer.echo(text)
        else:
            output.write_text(text + "\n")
            out_console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Add the config and build commands to ``app``."""
    app.command("build")(build_cmd)
    app.command("validate")(validate_cmd)
    app.command("schema")(schema_cmd)
