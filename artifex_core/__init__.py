"""artifex-vae's core: registries, plugins, config, factories, protocols, trainer and CLI.

This package's ``__init__`` is its public API (the implementation modules are private, ``_registry.py``
and so on): import from ``artifex_core``, :mod:`artifex_core.training`, :mod:`artifex_core.data`,
:mod:`artifex_core.evaluation`, :mod:`artifex_core.report` and :mod:`artifex_core.cli`. The import paths of
artifex 0.1 (``artifex_core.registry``, ``artifex_core.training.trainer``, ...) still work for one release,
with a :class:`DeprecationWarning` naming the new import.

Importing this package imports neither JAX nor Flax, and loads no plugin: plugins load on first
registry use, through the process-wide :class:`PluginHost`.

Example:
    >>> import artifex_core
    >>> "vae" in artifex_core.list_models()
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from artifex_core import _compat

_compat.install()

import artifex_core._host  # noqa: E402  first: the default plugin host owns the module-level registries
from artifex_core._atomic import atomic_open, atomic_write  # noqa: E402
from artifex_core._config import ModelConfig, format_validation_error, load_config  # noqa: E402
from artifex_core._config_files import apply_overrides, read_config_file  # noqa: E402
from artifex_core._config_values import ConfigError  # noqa: E402
from artifex_core._entry import Entry, PluginInfo, registering_as  # noqa: E402
from artifex_core._factory import (  # noqa: E402
    create_decoder_unified,
    create_encoder_unified,
    create_model,
    list_decoders,
    list_encoders,
    list_losses,
    list_models,
)
from artifex_core._hookspecs import artifex_register, artifex_register_commands  # noqa: E402
from artifex_core._host import ENTRY_POINT_GROUP, HostSnapshot, PluginHost, host  # noqa: E402
from artifex_core._params import (  # noqa: E402
    DatasetInfo,
    ParamsContractError,
    VariantParams,
    binary_likelihood,
    params_of,
    requires_condition,
    variant_params,
)
from artifex_core._plugins import (  # noqa: E402
    PluginLoadError,
    PluginLoadWarning,
    PluginStatus,
    hookimpl,
    load_plugins,
    plugin_manager,
    plugin_statuses,
    register_plugin,
    reset_plugins,
    unregister_plugin,
)
from artifex_core._introspect import docstring_from_source, signature_from_source  # noqa: E402
from artifex_core._lookup_errors import AmbiguousNameError, UnknownNameError  # noqa: E402
from artifex_core._name_registry import Registry, RegistrySnapshot  # noqa: E402
from artifex_core._protocols import GenerativeModel  # noqa: E402
from artifex_core._registry import (  # noqa: E402
    CONDITIONAL_WRAPPER,
    Registries,
    RegistriesSnapshot,
    datasets,
    decoders,
    encoders,
    loggers,
    losses,
    metrics,
    models,
    recipes,
    registries,
    resolve_kind,
    samplers,
)
from artifex_core._sampler import DEFAULT_SAMPLER, Sampler, SamplerError, SamplerState, default_sampler_of  # noqa: E402
from artifex_core._xla_tuning import (  # noqa: E402
    XLA_FLAGS_META,
    XLA_TUNING_ENV,
    XlaTuning,
    last_xla_tuning,
    tune_xla,
    xla_flags_for,
)

if TYPE_CHECKING:
    from artifex_core._charts import bar_chart, curve_terms, curves_figure, save_curves
    from artifex_core._visualize import (
        make_image_grid,
        save_bar_chart,
        save_codebook_usage,
        save_image_grid,
        to_uint8_images,
    )

try:
    __version__ = version("artifex-vae")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "AmbiguousNameError",
    "CONDITIONAL_WRAPPER",
    "ConfigError",
    "DEFAULT_SAMPLER",
    "DatasetInfo",
    "Entry",
    "GenerativeModel",
    "HostSnapshot",
    "ModelConfig",
    "ParamsContractError",
    "PluginHost",
    "PluginInfo",
    "PluginLoadError",
    "PluginLoadWarning",
    "PluginStatus",
    "Registries",
    "RegistriesSnapshot",
    "Registry",
    "RegistrySnapshot",
    "Sampler",
    "SamplerError",
    "SamplerState",
    "UnknownNameError",
    "VariantParams",
    "XLA_FLAGS_META",
    "XLA_TUNING_ENV",
    "XlaTuning",
    "__version__",
    "apply_overrides",
    "artifex_register",
    "artifex_register_commands",
    "atomic_open",
    "atomic_write",
    "bar_chart",
    "binary_likelihood",
    "create_decoder_unified",
    "create_encoder_unified",
    "create_model",
    "curve_terms",
    "curves_figure",
    "datasets",
    "decoders",
    "default_sampler_of",
    "docstring_from_source",
    "encoders",
    "format_validation_error",
    "hookimpl",
    "host",
    "last_xla_tuning",
    "list_decoders",
    "list_encoders",
    "list_losses",
    "list_models",
    "load_config",
    "load_plugins",
    "loggers",
    "losses",
    "make_image_grid",
    "metrics",
    "models",
    "params_of",
    "plugin_manager",
    "plugin_statuses",
    "read_config_file",
    "recipes",
    "register_plugin",
    "registering_as",
    "registries",
    "requires_condition",
    "reset_plugins",
    "resolve_kind",
    "save_bar_chart",
    "save_codebook_usage",
    "save_curves",
    "save_image_grid",
    "signature_from_source",
    "to_uint8_images",
    "tune_xla",
    "unregister_plugin",
    "variant_params",
    "xla_flags_for",
]

# Pictures and charts import NumPy (and matplotlib when drawing): loaded on first use.
_LAZY = {
    "bar_chart": "artifex_core._charts",
    "curve_terms": "artifex_core._charts",
    "curves_figure": "artifex_core._charts",
    "save_curves": "artifex_core._charts",
    "make_image_grid": "artifex_core._visualize",
    "save_bar_chart": "artifex_core._visualize",
    "save_codebook_usage": "artifex_core._visualize",
    "save_image_grid": "artifex_core._visualize",
    "to_uint8_images": "artifex_core._visualize",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
