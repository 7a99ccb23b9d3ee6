"""artifex-vae's built-in plugin: the VAE family, registered through the ``artifex.plugins`` entry point.

This ``__init__`` holds the plugin's parameter models and recipes (no JAX); the family itself is
:mod:`artifex_plugins.vae`, its metrics :mod:`artifex_plugins.metrics`, its datasets
:mod:`artifex_plugins.data`, its loggers :mod:`artifex_plugins.loggers`, and the entry point
:mod:`artifex_plugins.plugin`.

Example:
    >>> from artifex_plugins import VAEParams
    >>> VAEParams().kl_weight
    1.0
"""

from artifex_core import _compat
from artifex_plugins import _moved
from artifex_plugins._params import BetaVAECapacityParams, BetaVAEParams, ConditionalVAEParams, VAEParams, VQVAEParams
from artifex_plugins._recipes import (
    BETA_VAE_CAPACITY_RECIPE,
    BETA_VAE_RECIPE,
    CONDITIONAL_VAE_RECIPE,
    DEFAULT_MODEL,
    DEFAULT_RECIPE,
    DEFAULT_TRAIN,
    RECIPES,
    VAE_RECIPE,
    VQVAE_RECIPE,
)

_compat.register_moved(_moved.MOVED)  # the old module names of artifex 0.1 (``artifex_plugins.params``, ...)

__all__ = [
    "BETA_VAE_CAPACITY_RECIPE",
    "BETA_VAE_RECIPE",
    "CONDITIONAL_VAE_RECIPE",
    "DEFAULT_MODEL",
    "DEFAULT_RECIPE",
    "DEFAULT_TRAIN",
    "RECIPES",
    "VAE_RECIPE",
    "VQVAE_RECIPE",
    "BetaVAECapacityParams",
    "BetaVAEParams",
    "ConditionalVAEParams",
    "VAEParams",
    "VQVAEParams",
]
