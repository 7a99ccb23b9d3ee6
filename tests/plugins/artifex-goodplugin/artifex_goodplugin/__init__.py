"""A tiny third-party plugin: one encoder ("tiny") and one model ("tiny_vae"), registered lazily, a logger
("good_log") and one command, ``artifex good-hello``. This module imports neither JAX nor Flax."""

from __future__ import annotations

from artifex_core import hookimpl


@hookimpl
def artifex_register(registry):
    registry.encoders.register(
        "tiny", "artifex_goodplugin.modules:TinyEncoder", aliases=("tiny_linear",), summary="One linear layer"
    )
    registry.models.register(
        "tiny_vae",
        "artifex_goodplugin.modules:TinyVAE",
        summary="A VAE subclass from a plugin",
        params="artifex_goodplugin.params:TinyVAEParams",
    )

    # -- logger -----------------------------------------------------------------------------------------
    registry.loggers.register(
        "good_log", "artifex_goodplugin.loggers:GoodLog", summary="Every epoch's losses in RUN/good_log.txt"
    )


@hookimpl
def artifex_register_commands(cli):
    @cli.command("good-hello")
    def good_hello(name: str = "world") -> None:
        """Say hello from the good plugin."""
        print(f"hello {name} from artifex-goodplugin")
