"""Old import paths of artifex 0.1, kept for one release: ``import artifex_core.registry`` still works.

Implementation modules are private since 0.2 (``artifex_core/_registry.py``); each package's ``__init__`` is
the public API. One :class:`importlib.abc.MetaPathFinder`, installed by ``artifex_core/__init__``, maps each
old module name in :data:`MOVED` to its private module, with a :class:`DeprecationWarning` naming the
public import. Nothing is imported until an old name is: mapping names imports no JAX.

Example:
    >>> import sys, warnings
    >>> _ = sys.modules.pop("artifex_core.registry", None)  # imported once per process: warned once
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     from artifex_core.registry import Registries
    >>> Registries.__module__, caught[0].category.__name__
    ('artifex_core._registry', 'DeprecationWarning')
    >>> print(caught[0].message)
    artifex_core.registry is deprecated and will be removed in artifex 0.3; import from artifex_core instead
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "install", "register_moved"]

MOVED: dict[str, tuple[str, str]] = {
    "artifex_core.atomic": ("artifex_core._atomic", "artifex_core"),
    "artifex_core.buildable": ("artifex_core._buildable", "artifex_core"),
    "artifex_core.charts": ("artifex_core._charts", "artifex_core"),
    "artifex_core.cli.app": ("artifex_core.cli._app", "artifex_core.cli"),
    "artifex_core.cli.build_cmds": ("artifex_core.cli._build_cmds", "artifex_core.cli"),
    "artifex_core.cli.errors": ("artifex_core.cli._errors", "artifex_core.cli"),
    "artifex_core.cli.evaluate_cmds": ("artifex_core.cli._evaluate_cmds", "artifex_core.cli"),
    "artifex_core.cli.flags": ("artifex_core.cli._flags", "artifex_core.cli"),
    "artifex_core.cli.registry_cmds": ("artifex_core.cli._registry_cmds", "artifex_core.cli"),
    "artifex_core.cli.report_cmds": ("artifex_core.cli._report_cmds", "artifex_core.cli"),
    "artifex_core.cli.train_cmds": ("artifex_core.cli._train_cmds", "artifex_core.cli"),
    "artifex_core.config": ("artifex_core._config", "artifex_core"),
    "artifex_core.data.cache": ("artifex_core.data._cache", "artifex_core.data"),
    "artifex_core.data.checks": ("artifex_core.data._checks", "artifex_core.data"),
    "artifex_core.data.dataset": ("artifex_core.data._dataset", "artifex_core.data"),
    "artifex_core.data.files": ("artifex_core.data._files", "artifex_core.data"),
    "artifex_core.data.loading": ("artifex_core.data._loading", "artifex_core.data"),
    "artifex_core.data.pipeline": ("artifex_core.data._pipeline", "artifex_core.data"),
    "artifex_core.evaluation.loss": ("artifex_core.evaluation._loss", "artifex_core.evaluation"),
    "artifex_core.evaluation.metric": ("artifex_core.evaluation._metric", "artifex_core.evaluation"),
    "artifex_core.factory": ("artifex_core._factory", "artifex_core"),
    "artifex_core.hookspecs": ("artifex_core._hookspecs", "artifex_core"),
    "artifex_core.host": ("artifex_core._host", "artifex_core"),
    "artifex_core.introspect": ("artifex_core._introspect", "artifex_core"),
    "artifex_core.params": ("artifex_core._params", "artifex_core"),
    "artifex_core.plugins": ("artifex_core._plugins", "artifex_core"),
    "artifex_core.protocols": ("artifex_core._protocols", "artifex_core"),
    "artifex_core.registry": ("artifex_core._registry", "artifex_core"),
    "artifex_core.report.compare": ("artifex_core.report._compare", "artifex_core.report"),
    "artifex_core.report.html": ("artifex_core.report._html", "artifex_core.report"),
    "artifex_core.report.plots": ("artifex_core.report._plots", "artifex_core.report"),
    "artifex_core.report.provenance": ("artifex_core.report._provenance", "artifex_core.report"),
    "artifex_core.report.summary": ("artifex_core.report._summary", "artifex_core.report"),
    "artifex_core.training.callbacks": ("artifex_core.training._callbacks", "artifex_core.training"),
    "artifex_core.training.checkpoint": ("artifex_core.training._checkpoint", "artifex_core.training"),
    "artifex_core.training.compile_cache": ("artifex_core.training._compile_cache", "artifex_core.training"),
    "artifex_core.training.config": ("artifex_core.training._config", "artifex_core.training"),
    "artifex_core.training.curves": ("artifex_core.training._curves", "artifex_core.training"),
    "artifex_core.training.evaluate": ("artifex_core.training._evaluate", "artifex_core.training"),
    "artifex_core.training.loggers": ("artifex_core.training._loggers", "artifex_core.training"),
    "artifex_core.training.optim": ("artifex_core.training._optim", "artifex_core.training"),
    "artifex_core.training.overrides": ("artifex_core.training._overrides", "artifex_core.training"),
    "artifex_core.training.pictures": ("artifex_core.training._pictures", "artifex_core.training"),
    "artifex_core.training.plan": ("artifex_core.training._plan", "artifex_core.training"),
    "artifex_core.training.progress": ("artifex_core.training._progress", "artifex_core.training"),
    "artifex_core.training.recipes": ("artifex_core.training._recipes", "artifex_core.training"),
    "artifex_core.training.resources": ("artifex_core.training._resources", "artifex_core.training"),
    "artifex_core.training.run": ("artifex_core.training._run", "artifex_core.training"),
    "artifex_core.training.run_dir": ("artifex_core.training._run_dir", "artifex_core.training"),
    "artifex_core.training.run_lock": ("artifex_core.training._run_lock", "artifex_core.training"),
    "artifex_core.training.segments": ("artifex_core.training._segments", "artifex_core.training"),
    "artifex_core.training.sharding": ("artifex_core.training._sharding", "artifex_core.training"),
    "artifex_core.training.steps": ("artifex_core.training._steps", "artifex_core.training"),
    "artifex_core.training.tracking": ("artifex_core.training._tracking", "artifex_core.training"),
    "artifex_core.training.trainer": ("artifex_core.training._trainer", "artifex_core.training"),
    "artifex_core.visualize": ("artifex_core._visualize", "artifex_core"),
}
"""Old module name -> (its private module now, the public package to import its names from).

The core's own names are listed here; another package of the distribution adds its own with
:func:`register_moved` (each from its own table, imported with the package): the core names no
built-in."""


def register_moved(table: dict[str, tuple[str, str]]) -> None:
    """Add a package's old module names to :data:`MOVED` and install the finder.

    Args:
        table: old module name -> (its private module now, the public package to import its names from).
            An old name already mapped elsewhere is an error: two packages cannot claim one name.

    Raises:
        ValueError: If an old name is already mapped to another module.

    Example:
        >>> register_moved({"artifex_core.visualize": ("artifex_core._visualize", "artifex_core")})
        >>> MOVED["artifex_core.visualize"][0]
        'artifex_core._visualize'
    """
    clashes = sorted(old for old, new in table.items() if MOVED.get(old, new) != new)
    if clashes:
        raise ValueError(f"old module names already mapped elsewhere: {', '.join(clashes)}")
    MOVED.update(table)
    install()


class _MovedLoader(importlib.abc.Loader):
    """Loads an old name as its private module: ``sys.modules[old]`` is the very same module object."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        old = module.__name__
        new, public = MOVED[old]
        warnings.warn(
            f"{old} is deprecated and will be removed in artifex 0.3; import from {public} instead",
            DeprecationWarning,
            stacklevel=2,  # the importing line: warnings skips importlib's own frames
        )
        # importlib returns whatever sys.modules holds under the name once exec_module is done.
        sys.modules[old] = importlib.import_module(new)
        _keep_export(*old.rsplit(".", 1))


_KEPT: dict[str, set[str]] = {}
"""Package -> its exported names that share an old module's name (``artifex_core.host``, ``cli.app``)."""


class _KeepsExports(ModuleType):
    """A package whose exports an old submodule import does not overwrite (importlib sets the submodule as
    an attribute of its package after loading it: ``artifex_core.host`` would become the module)."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, ModuleType) and name in _KEPT.get(self.__name__, ()):
            return
        super().__setattr__(name, value)


def _keep_export(package: str, child: str) -> None:
    parent = sys.modules.get(package)
    if parent is None or isinstance(getattr(parent, child, None), ModuleType | None):
        return
    _KEPT.setdefault(package, set()).add(child)
    if type(parent) is ModuleType:
        parent.__class__ = _KeepsExports


class _MovedFinder(importlib.abc.MetaPathFinder):
    """Finds the old module names of :data:`MOVED`, and nothing else."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _LOADER)


_LOADER = _MovedLoader()
_FINDER = _MovedFinder()


def install() -> None:
    """Put the finder first on :data:`sys.meta_path` (once): an old name never reaches the file system."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _FINDER)
