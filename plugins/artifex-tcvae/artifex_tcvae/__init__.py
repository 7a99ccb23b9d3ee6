"""artifex-tcvae: the β-TCVAE model (Chen et al. 2018) as a third-party artifex plugin.

Installing the distribution registers, through the ``artifex.plugins`` entry point ``tcvae``:

* the model ``tcvae`` (alias ``beta_tcvae``): :class:`~artifex_tcvae.model.BetaTCVAE`, validated by
  :class:`~artifex_tcvae.params.BetaTCVAEParams`.

Registration uses lazy ``"module:attr"`` strings, and this module imports neither JAX nor Flax, so
``artifex list`` stays fast. The public names below are imported on first attribute access.

Example:
    >>> from artifex_core import models
    >>> models.entry("tcvae").qualified_id
    'tcvae:tcvae'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from artifex_core import hookimpl
from artifex_core import Registries

if TYPE_CHECKING:  # pragma: no cover
    from artifex_tcvae.estimators import gaussian_log_density, mws_decomposition
    from artifex_tcvae.model import BetaTCVAE
    from artifex_tcvae.params import BetaTCVAEParams

__all__ = ["BetaTCVAE", "BetaTCVAEParams", "artifex_register", "gaussian_log_density", "mws_decomposition"]

_LAZY = {
    "BetaTCVAE": "artifex_tcvae.model",
    "BetaTCVAEParams": "artifex_tcvae.params",
    "gaussian_log_density": "artifex_tcvae.estimators",
    "mws_decomposition": "artifex_tcvae.estimators",
}


@hookimpl
def artifex_register(registry: Registries) -> None:
    """Register the ``tcvae`` model (lazily: nothing is imported until it is used)."""
    registry.models.register(
        "tcvae",
        "artifex_tcvae.model:BetaTCVAE",
        aliases=("beta_tcvae",),
        summary="beta-TCVAE: ELBO split into index-code MI, total correlation and dimension-wise KL",
        params="artifex_tcvae.params:BetaTCVAEParams",
    )


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'artifex_tcvae' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
