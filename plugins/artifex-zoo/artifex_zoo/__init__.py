"""artifex-zoo: the strongest VAE variants as an artifex plugin package.

Installing the distribution registers, through the ``artifex.plugins`` entry point ``zoo``, the models listed
in :func:`artifex_register` (each with its ``VariantParams`` and a recipe).

Registration uses lazy ``"module:attr"`` strings, and this module imports neither JAX nor Flax, so
``artifex list`` stays fast.

Example:
    >>> import artifex_zoo
    >>> callable(artifex_zoo.artifex_register)
    True
"""

from __future__ import annotations

from artifex_core import Registries, hookimpl

__all__ = ["artifex_register"]


@hookimpl
def artifex_register(registry: Registries) -> None:
    """Register the zoo's models, recipes, samplers and metrics (lazily: nothing is imported until used)."""
    # -- FactorVAE: a discriminator with its own optimizer (the trainer's parameter groups) -----------------
    registry.models.register(
        "factorvae", "artifex_zoo._factor_vae:FactorVAE", aliases=("factor_vae",),
        summary="FactorVAE: VAE + gamma * TC by a discriminator's density ratio, trained with its own Adam (Kim & Mnih 2018)",
        params="artifex_zoo._factor_params:FactorVAEParams",
    )
    registry.recipes.register(
        "factorvae", "artifex_zoo._factor_recipe:FACTORVAE_RECIPE",
        summary="Bernoulli MLP FactorVAE (gamma 10, discriminator 3x512) on MNIST, 50 epochs",
    )
