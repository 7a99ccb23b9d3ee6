"""artifex-zoo: the strongest VAE variants as an artifex plugin package.

Installing the distribution registers, through the ``artifex.plugins`` entry point ``zoo``, the models listed
in :func:`artifex_register` (each with its ``VariantParams`` and a recipe) and the ``zoo_iwae`` metric (the
test NLL from a model's own ``log_importance_weights``, for models whose prior is not ``N(0, I)``).

Registration uses lazy ``"module:attr"`` strings, and this module imports neither JAX nor Flax, so
``artifex list`` stays fast. The public names below are imported on first attribute access.

Example:
    >>> import artifex_zoo
    >>> callable(artifex_zoo.artifex_register)
    True
    >>> from artifex_core import models
    >>> models.entry("iwae").qualified_id
    'zoo:iwae'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from artifex_core import Registries, hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from artifex_zoo._bounds import gaussian_log_density, iwae_bound, miwae_bound, standard_normal_log_density
    from artifex_zoo._dip import DIPVAE, dip_covariance, dip_penalties
    from artifex_zoo._factor_params import FactorVAEParams
    from artifex_zoo._factor_vae import Discriminator, FactorVAE, discriminator_loss, permute_dims, tc_estimate
    from artifex_zoo._hierarchical import HierarchicalVAE
    from artifex_zoo._info_vae import InfoVAE
    from artifex_zoo._iwae import IWAE, MIWAE, PIWAE
    from artifex_zoo._metric import ZooIWAE, model_log_weight_bounds
    from artifex_zoo._mmd import kernel_matrix, mmd_unbiased
    from artifex_zoo._objective import penalised_terms
    from artifex_zoo._params import (
        DIPVAEParams,
        HierarchicalVAEParams,
        InfoVAEParams,
        IWAEParams,
        MIWAEParams,
        PIWAEParams,
        VampPriorParams,
    )
    from artifex_zoo._vampprior import VampPrior, mixture_log_density
    from artifex_zoo._weighted import ImportanceWeightedVAE

_LAZY = {
    "DIPVAE": "artifex_zoo._dip",
    "dip_covariance": "artifex_zoo._dip",
    "dip_penalties": "artifex_zoo._dip",
    **{name: "artifex_zoo._factor_vae" for name in (
        "Discriminator", "FactorVAE", "discriminator_loss", "permute_dims", "tc_estimate",
    )},
    "FactorVAEParams": "artifex_zoo._factor_params",
    "HierarchicalVAE": "artifex_zoo._hierarchical",
    "InfoVAE": "artifex_zoo._info_vae",
    "IWAE": "artifex_zoo._iwae",
    "MIWAE": "artifex_zoo._iwae",
    "PIWAE": "artifex_zoo._iwae",
    "ImportanceWeightedVAE": "artifex_zoo._weighted",
    "VampPrior": "artifex_zoo._vampprior",
    "mixture_log_density": "artifex_zoo._vampprior",
    "ZooIWAE": "artifex_zoo._metric",
    "model_log_weight_bounds": "artifex_zoo._metric",
    "kernel_matrix": "artifex_zoo._mmd",
    "mmd_unbiased": "artifex_zoo._mmd",
    "penalised_terms": "artifex_zoo._objective",
    "gaussian_log_density": "artifex_zoo._bounds",
    "iwae_bound": "artifex_zoo._bounds",
    "miwae_bound": "artifex_zoo._bounds",
    "standard_normal_log_density": "artifex_zoo._bounds",
    **{name: "artifex_zoo._params" for name in (
        "DIPVAEParams", "HierarchicalVAEParams", "InfoVAEParams", "IWAEParams", "MIWAEParams", "PIWAEParams",
        "VampPriorParams",
    )},
}

__all__ = ["artifex_register", *sorted(_LAZY)]

_Z = "artifex_zoo"
_RECIPES = f"{_Z}._recipes"


@hookimpl
def artifex_register(registry: Registries) -> None:
    """Register the zoo's models, recipes, samplers and metrics (lazily: nothing is imported until used)."""
    from artifex_zoo._recipes import RECIPE_SUMMARIES

    m = registry.models
    m.register("iwae", f"{_Z}._iwae:IWAE", summary="IWAE: k-sample importance-weighted bound (Burda et al. 2016)",
               params=f"{_Z}._params:IWAEParams")
    m.register("miwae", f"{_Z}._iwae:MIWAE", summary="MIWAE: mean of M IWAE bounds of K samples (Rainforth et al. 2018)",
               params=f"{_Z}._params:MIWAEParams")
    m.register("piwae", f"{_Z}._iwae:PIWAE",
               summary="PIWAE: IWAE bound for the decoder, MIWAE for the encoder (Rainforth et al. 2018)",
               params=f"{_Z}._params:PIWAEParams")
    m.register("vampprior", f"{_Z}._vampprior:VampPrior", aliases=("vamp_prior",),
               summary="VampPrior: mixture-of-posteriors prior at K pseudo-inputs (Tomczak & Welling 2018)",
               params=f"{_Z}._params:VampPriorParams")
    m.register("hierarchical_vae", f"{_Z}._hierarchical:HierarchicalVAE", aliases=("hvae",),
               summary="Two stochastic layers x->z1->z2, generated top-down (Burda et al. 2016 two-layer)",
               params=f"{_Z}._params:HierarchicalVAEParams")
    m.register("dip_vae", f"{_Z}._dip:DIPVAE", summary="DIP-VAE I/II: covariance of q(z) pushed to I (Kumar et al. 2018)",
               params=f"{_Z}._params:DIPVAEParams")
    m.register("info_vae", f"{_Z}._info_vae:InfoVAE", aliases=("mmd_vae",),
               summary="InfoVAE / MMD-VAE: KL weighted 1-alpha plus an MMD term (Zhao et al. 2019)",
               params=f"{_Z}._params:InfoVAEParams")
    for name, summary in RECIPE_SUMMARIES.items():
        registry.recipes.register(name, f"{_RECIPES}:{name.upper()}_RECIPE", summary=summary)
    registry.metrics.register("zoo_iwae", f"{_Z}._metric:ZooIWAE",
                              summary="IWAE NLL from the model's own log_importance_weights (VampPrior, two-layer)")

    # -- FactorVAE: a discriminator with its own optimizer (the trainer's parameter groups) -----------------
    registry.models.register(
        "factorvae", "artifex_zoo._factor_vae:FactorVAE", aliases=("factor_vae",),
        summary="FactorVAE: VAE + gamma * TC by a discriminator's density ratio, trained with its own Adam (Kim & Mnih 2018)",
        params="artifex_zoo._factor_params:FactorVAEParams",
    )
    registry.recipes.register(
        "factorvae", "artifex_zoo._factor_recipe:FACTORVAE_RECIPE",
        summary="Bernoulli MLP FactorVAE (gamma 10, discriminator 3x512) on MNIST, 50 epochs",
    )


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'artifex_zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
