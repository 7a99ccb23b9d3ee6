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
