"""The built-in plugin's datasets, registered in the ``datasets`` registry by :mod:`artifex_plugins.plugin`.

- ``dsprites``: procedural dSprites (:mod:`artifex_plugins.data.dsprites`).

Example:
    >>> from artifex_plugins.data import load_dsprites
    >>> load_dsprites(4, cache=False).images.shape
    (4, 64, 64, 1)
"""

from __future__ import annotations

from artifex_plugins.data.dsprites import (
    FACTOR_NAMES,
    FACTOR_SIZES,
    DSprites,
    load_dsprites,
    load_dsprites_dataset,
    render_dsprites,
    sample_factors,
)

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "DSprites",
    "load_dsprites",
    "load_dsprites_dataset",
    "render_dsprites",
    "sample_factors",
]
