"""What made a run: the plugin that registered its model and the versions of the packages it ran on.

Read from installed distribution metadata and the ``models`` registry's entry (its :class:`PluginInfo`), so
nothing heavy is imported: no JAX here. ``config.json`` records it under ``"provenance"`` when a run starts,
``evaluation.json`` when one is evaluated; ``artifex report`` shows it.

Example:
    >>> info = provenance(None)
    >>> sorted(info), "artifex-vae" in info["packages"]
    (['packages', 'plugin', 'python'], True)
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

__all__ = ["PACKAGES", "model_plugin", "package_versions", "provenance"]

PACKAGES = ("artifex-vae", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy")
"""The distributions whose versions are recorded (those installed)."""


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """``{distribution: version}`` of those of ``names`` that are installed.

    Example:
        >>> package_versions(("numpy", "no-such-distribution-xyz")).keys() == {"numpy"}
        True
    """
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def model_plugin(model: str | None) -> dict[str, Any] | None:
    """The plugin that registers model ``model``: ``{"name", "dist", "version", "model"}``, or ``None``.

    ``None`` for no name or a name the ``models`` registry does not know (or cannot answer for).
    """
    if not model:
        return None
    from artifex_core._registry import models

    try:
        entry = models.entry(model)
    except Exception:  # noqa: BLE001 - an unknown or ambiguous name: nothing to record
        return None
    info = entry.plugin
    return {"name": info.name, "dist": info.dist, "version": info.version, "model": entry.qualified_id}


def provenance(model: str | None) -> dict[str, Any]:
    """``{"python", "packages", "plugin"}``: the interpreter, :func:`package_versions`, :func:`model_plugin`."""
    return {"python": platform.python_version(), "packages": package_versions(), "plugin": model_plugin(model)}
