"""The built-in plugin's old module names of artifex 0.1 (``artifex_plugins.params``, ...), kept for one release.

Implementation modules are private since 0.2; :func:`artifex_core._compat.register_moved` maps each old name
below to its private module, with a :class:`DeprecationWarning` naming the public package to import from.

Example:
    >>> MOVED["artifex_plugins.params"]
    ('artifex_plugins._params', 'artifex_plugins')
"""

from __future__ import annotations

__all__ = ["MOVED"]

MOVED: dict[str, tuple[str, str]] = {
    "artifex_plugins.data.dsprites": ("artifex_plugins.data._dsprites", "artifex_plugins.data"),
    "artifex_plugins.data.fashion_mnist": ("artifex_plugins.data._fashion_mnist", "artifex_plugins.data"),
    "artifex_plugins.data.idx": ("artifex_plugins.data._idx", "artifex_plugins.data"),
    "artifex_plugins.data.mnist": ("artifex_plugins.data._mnist", "artifex_plugins.data"),
    "artifex_plugins.loggers.tensorboard": ("artifex_plugins.loggers._tensorboard", "artifex_plugins.loggers"),
    "artifex_plugins.metrics.classifier": ("artifex_plugins.metrics._classifier", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.contract": ("artifex_plugins.metrics._contract", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.disentanglement": ("artifex_plugins.metrics._disentanglement", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.dsprites_eval": ("artifex_plugins.metrics._dsprites_eval", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.elbo": ("artifex_plugins.metrics._elbo", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.latents": ("artifex_plugins.metrics._latents", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.likelihood": ("artifex_plugins.metrics._likelihood", "artifex_plugins.metrics"),
    "artifex_plugins.metrics.vq": ("artifex_plugins.metrics._vq", "artifex_plugins.metrics"),
    "artifex_plugins.params": ("artifex_plugins._params", "artifex_plugins"),
    "artifex_plugins.recipes": ("artifex_plugins._recipes", "artifex_plugins"),
    "artifex_plugins.vae.activations": ("artifex_plugins.vae._activations", "artifex_plugins.vae"),
    "artifex_plugins.vae.blocks": ("artifex_plugins.vae._blocks", "artifex_plugins.vae"),
    "artifex_plugins.vae.checks": ("artifex_plugins.vae._checks", "artifex_plugins.vae"),
    "artifex_plugins.vae.embedding": ("artifex_plugins.vae._embedding", "artifex_plugins.vae"),
    "artifex_plugins.vae.initializers": ("artifex_plugins.vae._initializers", "artifex_plugins.vae"),
    "artifex_plugins.vae.latents": ("artifex_plugins.vae._latents", "artifex_plugins.vae"),
    "artifex_plugins.vae.layers": ("artifex_plugins.vae._layers", "artifex_plugins.vae"),
    "artifex_plugins.vae.lazy": ("artifex_plugins.vae._lazy", "artifex_plugins.vae"),
    "artifex_plugins.vae.losses": ("artifex_plugins.vae._losses", "artifex_plugins.vae"),
    "artifex_plugins.vae.network": ("artifex_plugins.vae._network", "artifex_plugins.vae"),
    "artifex_plugins.vae.quantizer": ("artifex_plugins.vae._quantizer", "artifex_plugins.vae"),
    "artifex_plugins.vae.shapes": ("artifex_plugins.vae._shapes", "artifex_plugins.vae"),
}
"""Old module name -> (its private module now, the public package to import its names from)."""
