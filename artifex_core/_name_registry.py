"""``Registry``: one kind's map from names (and aliases, and qualified ids ``plugin:name``) to entries.

A registry registers objects or lazy ``"module:attr"`` strings (imported on first :meth:`Registry.get`,
so listing names never imports JAX), lists them by glob, reports a name that two plugins register when it
is looked up, and snapshots and restores what it holds. It knows nothing about plugin loading: it calls
the *loader* it was given before answering a lookup.

Example:
    >>> reg = Registry("encoder")
    >>> _ = reg.register("identity", "builtins:id", summary="Returns its input's id")
    >>> reg.get("identity") is id, reg.names("id*")
    (True, ['identity'])
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, NamedTuple, TypeVar, cast, overload

from artifex_core._entry import Entry, TargetT, current_plugin
from artifex_core._lookup_errors import AmbiguousNameError, UnknownNameError

__all__ = ["Loader", "Registry", "RegistrySnapshot"]

T = TypeVar("T")

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
            name, target, summary, tuple(aliases), current_plugin(), params, dict(meta or {})
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
