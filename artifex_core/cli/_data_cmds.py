"""``artifex data``: pack a ``.npz`` or an image folder into memory-mapped ``.npy`` files, and verify a pack.

A pack trains without being loaded whole: ``artifex train --dataset DEST`` opens it memory-mapped and, when it
does not fit on the devices, streams it from the host (``data_placement``). No JAX is imported.

Exit codes: 0 ok; 2 for a missing ``SRC``, an existing ``DEST`` without ``--force`` or a bad flag; 1 for a
source that cannot be read or a damaged pack.

Example:
    $ artifex data pack digits/ packs/digits --image-size 28x28
    $ artifex data pack big.npz packs/big --force
    $ artifex data verify packs/big
    $ artifex train --dataset packs/big
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from artifex_core.cli._errors import CliFailure, UsageError, cli_errors, out_console
from artifex_core.cli._flags import FlagGroup

__all__ = ["data_app", "pack_cmd", "register", "verify_cmd"]

data_app = typer.Typer(
    name="data",
    help="Pack datasets into memory-mapped files that train without being loaded whole.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=FlagGroup,
)


def _image_size(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    parts = value.lower().split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--image-size must be HEIGHTxWIDTH (e.g. 28x28), got {value!r}") from None
    if height <= 0 or width <= 0:
        raise UsageError(f"--image-size must be positive, got {value!r}")
    return height, width


def _summary(manifest: dict[str, Any], dest: Path) -> str:
    counts, files = manifest["counts"], manifest["files"]
    size = sum(int(entry["bytes"]) for entry in files.values())
    classes = manifest.get("num_classes")
    labels = f", {classes} classes" if classes is not None else ", no labels"
    return (
        f"{dest}: {counts['train']} train + {counts['test']} test examples of shape "
        f"{tuple(manifest['example_shape'])} {manifest['dtype']}{labels}, {size / 2**20:.1f} MiB"
    )


def pack_cmd(
    src: Annotated[Path, typer.Argument(help="A .npz file or a folder of images.")],
    dest: Annotated[Path, typer.Argument(help="The pack folder to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace DEST when it is an existing pack.")] = False,
    test_fraction: Annotated[
        float | None, typer.Option("--test-fraction", help="Share held out for testing when SRC has no test split.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of that split.")] = None,
    image_size: Annotated[
        str | None, typer.Option("--image-size", help="Resize the images of a folder to HEIGHTxWIDTH.")
    ] = None,
    grayscale: Annotated[
        bool | None, typer.Option("--grayscale/--rgb", help="Force one channel or RGB (folders; default: as read).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Convert SRC (a .npz or an image folder) once into memory-mapped .npy files and a manifest at DEST."""
    with cli_errors():
        from artifex_core.data._dataset import DatasetError
        from artifex_core.data._packed import pack_dataset

        if not src.exists():
            raise UsageError(f"SRC {str(src)!r} does not exist")
        if (dest.exists() or dest.is_symlink()) and not force:
            raise UsageError(f"DEST {str(dest)!r} already exists; pass --force to replace it")
        kwargs: dict[str, Any] = {}
        if test_fraction is not None:
            kwargs["test_fraction"] = test_fraction
        if seed is not None:
            kwargs["seed"] = seed
        if src.is_dir():
            size = _image_size(image_size)
            if size is not None:
                kwargs["image_size"] = size
            if grayscale is not None:
                kwargs["grayscale"] = grayscale
        elif image_size is not None or grayscale is not None:
            raise UsageError("--image-size and --grayscale/--rgb apply to image folders only")
        try:
            manifest = pack_dataset(src, dest, force=force, **kwargs)
        except DatasetError as exc:
            raise CliFailure(str(exc)) from None
        if as_json:
            typer.echo(json.dumps(manifest, indent=2))
            return
        out_console.print(f"packed {_summary(manifest, dest)}", markup=False)


def verify_cmd(
    pack: Annotated[Path, typer.Argument(help="A pack folder written by `artifex data pack`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Check a pack: its manifest, every file's header and size, and their sha256 sums."""
    with cli_errors():
        from artifex_core.data._dataset import DatasetError
        from artifex_core.data._packed import verify_pack

        if not pack.exists():
            raise UsageError(f"pack {str(pack)!r} does not exist")
        try:
            manifest = verify_pack(pack)
        except DatasetError as exc:
            raise CliFailure(str(exc)) from None
        if as_json:
            typer.echo(json.dumps(manifest, indent=2))
            return
        out_console.print(f"ok {_summary(manifest, pack)}", markup=False)


data_app.command("pack")(pack_cmd)
data_app.command("verify")(verify_cmd)


def register(app: typer.Typer) -> None:
    """Add the ``data`` sub-app (``pack``, ``verify``) to ``app``."""
    app.add_typer(data_app, name="data")
