"""artifex-vae's core: registries, plugins, config, factories, protocols, trainer and CLI.

Importing this package imports neither JAX nor Flax, and loads no plugin: plugins load on first
registry use, through the process-wide :class:`~artifex_core._host.PluginHost`.

Example:
    >>> import artifex_core
    >>> "vae" in artifex_core.list_models()
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import artifex_core._host  # noqa: F401  first: the default plugin host owns the module-level registries
from artifex_core._config import ConfigError, ModelConfig, load_config
from artifex_core._params import DatasetInfo, VariantParams
from artifex_core._factory import (
    create_decoder_unified,
    create_encoder_unified,
    create_model,
    list_decoders,
    list_encoders,
    list_losses,
    list_models,
)
from artifex_core._plugins import PluginLoadError, PluginLoadWarning, hookimpl, load_plugins, plugin_statuses
from artifex_core._protocols import GenerativeModel
from artifex_core._registry import AmbiguousNameError, Registry, UnknownNameError

try:
    __version__ = version("artifex-vae")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AmbiguousNameError",
    "ConfigError",
    "DatasetInfo",
    "GenerativeModel",
    "ModelConfig",
    "PluginLoadError",
    "PluginLoadWarning",
    "Registry",
    "UnknownNameError",
    "VariantParams",
    "__version__",
    "create_decoder_unified",
    "create_encoder_unified",
    "create_model",
    "hookimpl",
    "list_decoders",
    "list_encoders",
    "list_losses",
    "list_models",
    "load_config",
    "load_plugins",
    "plugin_statuses",
]
