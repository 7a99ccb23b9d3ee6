"""Name registries for encoders, decoders, losses, models, datasets, recipes, metrics, loggers and samplers.

Everything artifex knows is found by name. A :class:`Registry` maps names (and aliases) to objects or to
lazy ``"module:attr"`` strings that are imported on first :meth:`Registry.get`, so listing names never
imports JAX. Every entry also answers to its qualified id ``plugin:name``; a name that two plugins
register is reported when looked up, never silently overwritten.

This module holds the set of registries, :class:`Registries`, one per kind, and the default host's: the
module-level ``encoders``, ``decoders``, ... and ``registries``. One registry is
:mod:`artifex_core._name_registry`, what it holds :mod:`artifex_core._entry`, its lookup errors
:mod:`artifex_core._lookup_errors`; their names are importable from here too (the 0.1 path
``artifex_core.registry``). None of these modules knows about plugin loading: a registry calls the
*loader* it was given (the :class:`~artifex_core.PluginHost` installs its ``load``) before answering a
lookup.

Example:
    >>> from artifex_core._registry import Registry
    >>> reg = Registry("encoder")
    >>> _ = reg.register("identity", "builtins:id", summary="Returns its input's id")
    >>> reg.get("identity") is id
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from artifex_core._entry import Entry, PluginInfo, registering_as
from artifex_core._lookup_errors import AmbiguousNameError, UnknownNameError
from artifex_core._name_registry import Loader, Registry, RegistrySnapshot

if TYPE_CHECKING:  # pragma: no cover - the target types only; listing names imports none of them
    from flax import nnx

    from artifex_core.data._dataset import Dataset
    from artifex_core._sampler import Sampler
    from artifex_core.evaluation._metric import Metric
    from artifex_core.training._loggers import Logger
    from artifex_core.training._recipes import RecipeTarget

__all__ = [
    "CONDITIONAL_WRAPPER",
    "AmbiguousNameError",
    "Entry",
    "PluginInfo",
    "Registries",
    "RegistriesSnapshot",
    "Registry",
    "RegistrySnapshot",
    "UnknownNameError",
    "decoders",
    "datasets",
    "encoders",
    "loggers",
    "losses",
    "metrics",
    "models",
    "recipes",
    "registering_as",
    "registries",
    "samplers",
]

CONDITIONAL_WRAPPER = "conditional"
"""The encoder and decoder name the core looks up to condition a network on class labels (``conditional=True``).

A core contract name: a plugin provides conditioning by registering a wrapper under it in ``encoders`` and
``decoders`` (with ``meta={"wrapper": True}``), built as ``wrapper(encoder=base, num_classes=..., embed_dim=...,
rngs=...)`` (``decoder=base`` for decoders); the built-in plugin does."""

RegistriesSnapshot = dict[str, RegistrySnapshot]
"""A :class:`RegistrySnapshot` per plural kind, from :meth:`Registries.snapshot`."""


@dataclass(frozen=True)
class Registries:
    """The registries handed to a plugin's ``artifex_register(registry)`` hook, one per kind.

    Each holds objects of one type (or lazy ``"module:attr"`` strings naming one), which the type checker
    verifies at registration and lookup:

    - ``encoders``, ``decoders``: callables building an ``nnx.Module`` (the classes, called with the
      config's keywords and ``rngs=``);
    - ``losses``: callables ``(reconstructed, x) -> loss`` (functions or ``ReconstructionLoss`` objects);
    - ``models``: callables (the model classes) building an ``nnx.Module``;
    - ``datasets``: loaders returning a :class:`~artifex_core.data.Dataset`;
    - ``recipes``: a :data:`~artifex_core.training._recipes.RecipeTarget` (a mapping or a function returning one);
    - ``metrics``: :class:`~artifex_core.evaluation.Metric` subclasses;
    - ``loggers``: :class:`~artifex_core.training.Logger` subclasses, constructed as ``cls(run_dir, **kwargs)``
      (any :class:`~artifex_core.training.Callback` class constructed that way is accepted);
    - ``samplers``: :class:`~artifex_core.Sampler` subclasses, constructed with their options as keywords
      (how a trained model generates: ``artifex sample --sampler NAME``).

    Example:
        >>> regs = Registries()
        >>> list(regs.by_kind())
        ['encoders', 'decoders', 'losses', 'models', 'datasets', 'recipes', 'metrics', 'loggers', 'samplers']
        >>> regs.recipes.kind
        'recipe'
    """

    encoders: Registry[Callable[..., nnx.Module]] = field(default_factory=lambda: Registry("encoder"))
    decoders: Registry[Callable[..., nnx.Module]] = field(default_factory=lambda: Registry("decoder"))
    losses: Registry[Callable[..., Any]] = field(default_factory=lambda: Registry("loss"))
    models: Registry[Callable[..., nnx.Module]] = field(default_factory=lambda: Registry("model"))
    datasets: Registry[Callable[..., Dataset]] = field(default_factory=lambda: Registry("dataset"))
    recipes: Registry[RecipeTarget] = field(default_factory=lambda: Registry("recipe"))
    metrics: Registry[type[Metric]] = field(default_factory=lambda: Registry("metric"))
    loggers: Registry[type[Logger]] = field(default_factory=lambda: Registry("logger"))
    samplers: Registry[type[Sampler]] = field(default_factory=lambda: Registry("sampler"))

    def by_kind(self) -> dict[str, Registry[Any]]:
        """The registries keyed by their plural kind ("encoders", ...), in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def set_loader(self, loader: Loader | None) -> None:
        """Install ``loader`` on every registry (see :meth:`Registry.set_loader`)."""
        for reg in self.by_kind().values():
            reg.set_loader(loader)

    def unregister_plugin(self, plugin_name: str) -> None:
        """Remove a plugin's entries from every registry."""
        for reg in self.by_kind().values():
            reg.unregister_plugin(plugin_name)

    def owned_by(self, plugin_name: str) -> list[str]:
        """``kind:name`` of everything plugin ``plugin_name`` registered, sorted (loads nothing)."""
        return sorted(f"{kind}:{name}" for kind, reg in self.by_kind().items() for name in reg.owned_by(plugin_name))

    def snapshot(self) -> RegistriesSnapshot:
        """Capture every registry (loads nothing); :meth:`restore` puts this state back."""
        return {kind: reg.snapshot() for kind, reg in self.by_kind().items()}

    def restore(self, snapshot: RegistriesSnapshot) -> None:
        """Put every registry back as :meth:`snapshot` found it."""
        for kind, reg in self.by_kind().items():
            reg.restore(snapshot[kind])


registries = Registries()
"""The default host's registries (:func:`artifex_core.host` installs its loader on them)."""
encoders = registries.encoders
"""The default registry of encoders (``registries.encoders``)."""
decoders = registries.decoders
"""The default registry of decoders (``registries.decoders``)."""
losses = registries.losses
"""The default registry of reconstruction losses (``registries.losses``)."""
models = registries.models
"""The default registry of models (``registries.models``)."""
datasets = registries.datasets
"""The default registry of datasets (``registries.datasets``)."""
recipes = registries.recipes
"""The default registry of recipes (``registries.recipes``)."""
metrics = registries.metrics
"""The default registry of metrics (``registries.metrics``)."""
loggers = registries.loggers
"""The default registry of training loggers (``registries.loggers``)."""
samplers = registries.samplers
"""The default registry of samplers (``registries.samplers``)."""

KIND_ALIASES: dict[str, str] = {
    "encoder": "encoders",
    "decoder": "decoders",
    "loss": "losses",
    "model": "models",
    "dataset": "datasets",
    "recipe": "recipes",
    "metric": "metrics",
    "logger": "loggers",
    "sampler": "samplers",
}


def resolve_kind(kind: str, within: Registries | None = None) -> Registry[Any]:
    """Return the registry for ``kind`` ("models" or "model").

    Args:
        kind: A plural or singular kind.
        within: The registries to look in (default: the module-level ones).

    Raises:
        UnknownNameError: For an unknown kind, with close matches.

    Example:
        >>> resolve_kind("recipe") is recipes
        True
    """
    table = (registries if within is None else within).by_kind()
    key = KIND_ALIASES.get(kind, kind)
    if key not in table:
        raise UnknownNameError("kind", kind, list(table))
    return table[key]
