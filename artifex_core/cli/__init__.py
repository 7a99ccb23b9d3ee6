"""The ``artifex`` command line (Typer + rich). Importing it imports no JAX.

Example:
    $ artifex list models --json
    $ artifex build vae --set latent_dim=8
"""

from __future__ import annotations

from artifex_core.cli._app import app, main

__all__ = ["app", "main"]
