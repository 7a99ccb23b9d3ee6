"""What a registry holds: one :class:`Entry` (a name, its object or lazy ``"module:attr"`` target) and
:class:`PluginInfo`, who registered it, set for a block of registrations by :func:`registering_as`.

Example:
    >>> entry = Entry("identity", "builtins:id")
    >>> entry.qualified_id, entry.target_path, entry.load() is id
    ('local:identity', 'builtins:id', True)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["LOCAL_PLUGIN", "Entry", "PluginInfo", "TargetT", "current_plugin", "registering_as"]

TargetT = TypeVar("TargetT")
"""What a registry holds (see :class:`~artifex_core.Registries` for each kind's target type)."""

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


def current_plugin() -> PluginInfo:
    """The plugin that registrations made now are attributed to (:data:`LOCAL_PLUGIN` outside
    :func:`registering_as`)."""
    return _current_plugin.get()


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
