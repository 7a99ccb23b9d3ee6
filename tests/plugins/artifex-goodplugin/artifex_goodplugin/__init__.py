"""A tiny third-party plugin that uses every hook and registry: an encoder ("tiny"), a model ("tiny_vae") with
its ``VariantParams`` and its recipe, a dataset ("blobs"), a metric ("good_recon"), a logger ("good_log") and a
command, ``artifex good-hello``. Everything is registered lazily: this module imports neither JAX nor Flax."""

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

    # -- dataset, recipe, metric ------------------------------------------------------------------------
    registry.datasets.register("blobs", "artifex_goodplugin.data:load_blobs", summary="8x8 blobs in 4 corners")
    registry.recipes.register(
        "tiny_vae", "artifex_goodplugin.recipes:TINY_VAE_RECIPE", summary="tiny_vae on blobs, 2 epochs"
    )
    registry.metrics.register(
        "good_recon", "artifex_goodplugin.metrics:ReconstructionError", summary="Mean absolute reconstruction error"
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
