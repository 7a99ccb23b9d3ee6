"""Name registries for encoders, decoders, losses, models, datasets, recipes, metrics, loggers and samplers.

Everything artifex knows is found by name. A :class:`Registry` maps names (and aliases) to objects or to
lazy ``"module:attr"`` strings that are imported on first :meth:`Registry.get`, so listing names never
imports JAX. Every entry also answers to its qualified id ``plugin:name``; a name that two plugins
register is reported when looked up, never silently overwritten.

This module knows nothing about plugin loading: a registry calls the *loader* it was given (the
:class:`~artifex_core.PluginHost` installs its ``load``) before answering a lookup. The module-level
``encoders``, ``decoders``, ... and ``registries`` are the default host's registries.

Example:
    >>> from artifex_core._registry import Registry
    >>> reg = Registry("encoder")
    >>> _ = reg.register("identity", "builtins:id", summary="Returns its input's id")
    >>> reg.get("identity") is id
    True
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast, overload

if TYPE_CHECKING:  # pragma: no cover - the target types only; listing names imports none of them
    from flax import nnx

    from artifex_core.data._dataset import Dataset
    from artifex_core._sampler import Sampler
    from artifex_core.evaluation._metric import Metric
    from artifex_core.training._loggers import Logger
    from artifex_core.training._recipes import RecipeTarget

__all__ = [
    "AmbiguousNameError",
    "Entry",
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
    "registries",
    "samplers",
]

T = TypeVar("T")
TargetT = TypeVar("TargetT")
"""What a registry holds (see :class:`Registries` for each kind's target type)."""

LOCAL_PLUGIN = "local"
"""Owner recorded for entries registered directly from user code rather than by a plugin."""


@dataclass(frozen=True)
class PluginInfo:
    """Who registers an entry: the entry-point name, its distribution and version."""

    name: str = LOCAL_PLUGIN
    dist: str | None = None
    version: str | None = None


_current_plugin: ContextVar[PluginInfo] = ContextVar("artifex_current_plugin", default=PluginInfo())


@contextmanager
def registering_as(info: PluginInfo) -> Iterator[None]:
    """Attribute every registration made inside the block to plugin ``info``."""
    token = _current_plugin.set(info)
    try:
        yield
    finally:
        _current_plugin.reset(token)


class UnknownNameError(LookupError):
    """A name that no registry entry answers to; the message lists close matches."""

    def __init__(self, kind: str, name: str, candidates: list[str]) -> None:
        self.kind, self.name = kind, name
        pool = candidates if ":" in name else [c for c in candidates if ":" not in c]
        self.matches = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(m) for m in self.matches)}?" if self.matches else ""
        available = ", ".join(sorted(c for c in candidates if ":" not in c)) or "none"
        super().__init__(f"unknown {kind} {name!r}{hint} (available: {available})")

    def __str__(self) -> str:  # LookupError would repr() the message
        return str(self.args[0])


class AmbiguousNameError(LookupError):
    """A name registered by several plugins; the message lists their qualified ids."""

    def __init__(self, kind: str, name: str, qualified: list[str]) -> None:
        self.kind, self.name, self.candidates = kind, name, qualified
        super().__init__(
            f"{kind} {name!r} is registered by several plugins: {', '.join(qualified)}; "
            "use one of these qualified ids"
        )

    def __str__(self) -> str:
        return str(self.args[0])


def _import_target(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"lazy target {spec!r} must look like 'package.module:attribute'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass
class Entry(Generic[TargetT]):
    """One registered object.

    Attributes:
        name: The primary name.
        target: The object, or a lazy ``"module:attr"`` string.
        summary: One line shown by ``artifex list``.
        aliases: Other names it answers to.
        plugin: Who registered it.
        params: For models, the pydantic model (or lazy string) validating the variant's own arguments.
        meta: Free-form extra facts (e.g. ``{"wrapper": True}``).
    """

    name: str
    target: TargetT | str
    summary: str = ""
    aliases: tuple[str, ...] = ()
    plugin: PluginInfo = field(default_factory=PluginInfo)
    params: Any = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_id(self) -> str:
        """``plugin:name``, unique across plugins."""
        return f"{self.plugin.name}:{self.name}"

    @property
    def target_path(self) -> str:
        """Where the object lives, without importing it."""
        if isinstance(self.target, str):
            return self.target
        return f"{getattr(self.target, '__module__', '?')}:{getattr(self.target, '__qualname__', '?')}"

    def load(self) -> TargetT:
        """Return the object, importing a lazy target on first use."""
        target = self.target
        if isinstance(target, str):
            loaded: TargetT = _import_target(target)
            self.target = loaded
            return loaded
        return target

    def load_params(self) -> Any:
        """Return the parameters model, importing a lazy one on first use (None when there is none)."""
        if isinstance(self.params, str):
            self.params = _import_target(self.params)
        return self.params

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description that imports nothing."""
        return {
            "name": self.name,
            "qualified_id": self.qualified_id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "plugin": self.plugin.name,
            "dist": self.plugin.dist,
            "version": self.plugin.version,
            "target": self.target_path,
        }


Loader = Callable[[], object]
"""Called (with no argument) before a registry answers a lookup; the plugin host's ``load``."""


class RegistrySnapshot(NamedTuple):
    """What one :class:`Registry` held at :meth:`Registry.snapshot` time (read-only).

    Attributes:
        kind: The registry's kind, checked on restore.
        table: Every name and alias with the entries answering to it.
    """

    kind: str
    table: Mapping[str, tuple[Entry, ...]]


class Registry(Generic[TargetT]):
    """A name -> object map with aliases, lazy targets, plugin ownership and glob listing.

    Args:
        kind: What it holds, singular ("encoder"), used in error messages.
        loader: Called before every lookup or listing; the plugin host installs its idempotent ``load``
            here so that plugins load on first use. ``None``: a plain, self-contained registry.

    Example:
        >>> reg = Registry("loss")
        >>> @reg.register("zero", summary="Always zero")
        ... def zero(pred, target):
        ...     return 0.0
        >>> reg.names("z*")
        ['zero']
    """

    def __init__(self, kind: str, *, loader: Loader | None = None) -> None:
        self.kind = kind
        self._loader = loader
        self._by_name: dict[str, list[Entry[TargetT]]] = {}
        self._lock = threading.RLock()

    def set_loader(self, loader: Loader | None) -> None:
        """Call ``loader`` before every lookup from now on (``None``: stop calling one)."""
        self._loader = loader

    # -- registration ---------------------------------------------------------------------------
    @overload
    def register(
        self,
        name: str,
        target: None = None,
        *,
        summary: str = "",
        aliases: tuple[str, ...] | list[str] = (),
        params: Any = None,
        meta: dict[str, Any] | None = None,
    ) -> Callable[[T], T]: ...

    @overload
    def register(
        self,
        name: str,
        target: TargetT | str,
        *,
        summary: str = "",
        aliases: tuple[str, ...] | list[str] = (),
        params: Any = None,
        meta: dict[str, Any] | None = None,
    ) -> TargetT | str: ...

    def register(
        self,
        name: str,
        target: TargetT | str | None = None,
        *,
        summary: str = "",
        aliases: tuple[str, ...] | list[str] = (),
        params: Any = None,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Register ``target`` under ``name``; without a target, return a decorator.

        Args:
            name: The primary name (no ``:``).
            target: The object or a lazy ``"module:attr"`` string.
            summary: One line for listings.
            aliases: Other names.
            params: For models, a pydantic model (or lazy string) of the variant's own arguments.
            meta: Extra facts about the entry.

        Returns:
            The target (so it works as a decorator).

        Raises:
            ValueError: If the same plugin already registered this name or alias.
        """
        if target is None:

            def decorator(obj: T) -> T:
                # The decorator keeps the decorated object's own type for its module; what it registers is
                # the registry's target type by the registering plugin's word (checked only when used).
                registered = cast(TargetT, obj)
                self.register(name, registered, summary=summary, aliases=aliases, params=params, meta=meta)
                return obj

            return decorator
        if summary == "" and not isinstance(target, str):
            doc = (getattr(target, "__doc__", None) or "").strip()
            summary = doc.splitlines()[0] if doc else ""
        entry: Entry[TargetT] = Entry(
            name, target, summary, tuple(aliases), _current_plugin.get(), params, dict(meta or {})
        )
        with self._lock:
            for key in (name, *entry.aliases):
                if ":" in key or not key:
                    raise ValueError(f"{self.kind} name {key!r} must be non-empty and contain no ':'")
                for other in self._by_name.get(key, []):
                    if other.plugin.name == entry.plugin.name:
                        raise ValueError(
                            f"{self.kind} {key!r} is already registered by plugin {entry.plugin.name!r}"
                        )
            for key in (name, *entry.aliases):
                self._by_name.setdefault(key, []).append(entry)
        return target

    def unregister_plugin(self, plugin_name: str) -> None:
        """Remove every entry that plugin ``plugin_name`` registered."""
        with self._lock:
            for key in list(self._by_name):
                kept = [e for e in self._by_name[key] if e.plugin.name != plugin_name]
                if kept:
                    self._by_name[key] = kept
                else:
                    del self._by_name[key]

    def owned_by(self, plugin_name: str) -> list[str]:
        """Sorted primary names of the entries plugin ``plugin_name`` registered (loads nothing)."""
        with self._lock:
            return sorted({e.name for e in self._unique_entries() if e.plugin.name == plugin_name})

    # -- snapshots ------------------------------------------------------------------------------
    def snapshot(self) -> RegistrySnapshot:
        """Capture every entry (loads nothing); :meth:`restore` puts this state back.

        Example:
            >>> reg = Registry("loss")
            >>> saved = reg.snapshot()
            >>> _ = reg.register("scratch", abs)
            >>> reg.restore(saved)
            >>> reg.names()
            []
        """
        with self._lock:
            table = {key: tuple(group) for key, group in self._by_name.items()}
        return RegistrySnapshot(self.kind, MappingProxyType(table))

    def restore(self, snapshot: RegistrySnapshot) -> None:
        """Put back the entries captured by :meth:`snapshot`, dropping everything registered since.

        Raises:
            ValueError: If the snapshot was taken of a registry of another kind.
        """
        if snapshot.kind != self.kind:
            raise ValueError(f"a {snapshot.kind} snapshot cannot restore the {self.kind} registry")
        with self._lock:
            self._by_name = {key: list(group) for key, group in snapshot.table.items()}

    # -- lookup ---------------------------------------------------------------------------------
    def _ready(self) -> None:
        if self._loader is not None:
            self._loader()

    def entry(self, name: str) -> Entry[TargetT]:
        """Return the :class:`Entry` for a name, alias or qualified id ``plugin:name``.

        Raises:
            UnknownNameError: If nothing answers to ``name``.
            AmbiguousNameError: If several plugins registered ``name``.
        """
        self._ready()
        with self._lock:
            if ":" in name:
                plugin, _, short = name.partition(":")
                for e in self._by_name.get(short, []):
                    if e.plugin.name == plugin:
                        return e
                raise UnknownNameError(self.kind, name, self._candidates())
            found = self._by_name.get(name, [])
            if not found:
                raise UnknownNameError(self.kind, name, self._candidates())
            if len(found) > 1:
                raise AmbiguousNameError(self.kind, name, sorted(e.qualified_id for e in found))
            return found[0]

    def get(self, name: str) -> TargetT:
        """Return the object registered under ``name`` (importing a lazy target)."""
        return self.entry(name).load()

    def _candidates(self) -> list[str]:
        names = list(self._by_name)
        return names + [e.qualified_id for e in self._unique_entries()]

    def _unique_entries(self) -> list[Entry[TargetT]]:
        seen: dict[int, Entry[TargetT]] = {}
        for group in self._by_name.values():
            for e in group:
                seen.setdefault(id(e), e)
        return list(seen.values())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.entry(name)
        except AmbiguousNameError:
            return True
        except LookupError:
            return False
        return True

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted primary names matching a glob ``pattern`` (aliases are not listed)."""
        return sorted({e.name for e in self.entries(pattern)})

    def entries(self, pattern: str = "*") -> list[Entry[TargetT]]:
        """Entries whose name, an alias or qualified id matches ``pattern``, sorted by name and plugin."""
        self._ready()
        with self._lock:
            found = [
                e
                for e in self._unique_entries()
                if any(fnmatch.fnmatchcase(k, pattern) for k in (e.name, *e.aliases, e.qualified_id))
            ]
        return sorted(found, key=lambda e: (e.name, e.plugin.name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.entries())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._by_name)} names)"


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
