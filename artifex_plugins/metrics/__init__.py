"""The built-in plugin's metrics, registered in the ``metrics`` registry by :mod:`artifex_plugins.plugin`.

=========================  ===========================================  ==========================================
registered name            metric                                       applies to
=========================  ===========================================  ==========================================
``test_loss``              :class:`artifex_core.evaluation.LossMetric`  every model (its ``loss_fn``)
``elbo``                   :class:`ELBO`                                declared Gaussian latent
``iwae``                   :class:`IWAEBound`                           declared Gaussian latent, ``k > 0``
``active_units``           :class:`ActiveUnits`                         declared Gaussian latent
``vq_usage``               :class:`CodebookUsage`                       declared codebook latent
``conditional_accuracy``   :class:`ConditionalSampleAccuracy`           conditional runs
``disentanglement``        :class:`DSpritesDisentanglement`             Gaussian latent trained on ``dsprites``
=========================  ===========================================  ==========================================

The plain functions behind them are public too:

- :mod:`~artifex_plugins.metrics._elbo`: the test ELBO (:func:`model_elbo`) and :func:`bits_per_dim`.
- :mod:`~artifex_plugins.metrics._likelihood`: importance-weighted bounds (:func:`iwae_bound`,
  :func:`model_iwae_bound`).
- :mod:`~artifex_plugins.metrics._latents`: :func:`active_units`, :func:`encode_means`.
- :mod:`~artifex_plugins.metrics._vq`: :func:`normalized_mse`, :func:`perplexity`, :func:`codes_used`.
- :mod:`~artifex_plugins.metrics._classifier`: a cached MLP classifier and :func:`classifier_accuracy`.
- :mod:`~artifex_plugins.metrics._disentanglement`: :func:`mig` (disentanglement_lib's estimator) and
  :func:`factor_vae_score`.
- :mod:`~artifex_plugins.metrics._mig_chen`: :func:`mig_chen` (Chen et al.'s estimator: sampled posterior).
- :mod:`~artifex_plugins.metrics._dsprites_eval`: :func:`dsprites_disentanglement` on procedural dSprites.

Importing this package imports JAX and Flax; the NumPy-only functions can be imported from their modules.

Example:
    >>> import numpy as np
    >>> from artifex_plugins.metrics import active_units, perplexity
    >>> active_units(np.array([[0.0, 1.0], [1.0, 1.0]])), perplexity(np.array([0, 1]), 4)
    (1, 2.0)
"""

from __future__ import annotations

from artifex_plugins.metrics._classifier import (
    Classifier,
    ConditionalSampleAccuracy,
    classifier_accuracy,
    load_classifier,
    load_or_train_classifier,
    predict,
    save_classifier,
    train_classifier,
)
from artifex_plugins.metrics._contract import latent_type
from artifex_plugins.metrics._disentanglement import (
    discrete_entropy,
    discrete_mutual_information,
    discretize,
    factor_vae_details,
    factor_vae_score,
    mig,
    mig_details,
    mig_gaps,
)
from artifex_plugins.metrics._elbo import ELBO, bits_per_dim, model_elbo
from artifex_plugins.metrics._mig_chen import estimate_entropies, mig_chen, mig_chen_details
from artifex_plugins.metrics._dsprites_eval import DSpritesDisentanglement, dsprites_disentanglement, is_dsprites
from artifex_plugins.metrics._latents import ActiveUnits, active_units, encode_means, latent_variances
from artifex_plugins.metrics._likelihood import (
    IWAEBound,
    bernoulli_log_likelihood,
    gaussian_log_likelihood,
    iwae_bound,
    iwae_nll,
    model_iwae_bound,
)
from artifex_plugins.metrics._vq import CodebookUsage, code_counts, codes_used, normalized_mse, perplexity

__all__ = [
    "ActiveUnits",
    "Classifier",
    "CodebookUsage",
    "ConditionalSampleAccuracy",
    "DSpritesDisentanglement",
    "ELBO",
    "IWAEBound",
    "active_units",
    "bernoulli_log_likelihood",
    "bits_per_dim",
    "classifier_accuracy",
    "code_counts",
    "codes_used",
    "discrete_entropy",
    "discrete_mutual_information",
    "discretize",
    "dsprites_disentanglement",
    "encode_means",
    "estimate_entropies",
    "factor_vae_details",
    "factor_vae_score",
    "gaussian_log_likelihood",
    "is_dsprites",
    "iwae_bound",
    "iwae_nll",
    "latent_type",
    "latent_variances",
    "load_classifier",
    "load_or_train_classifier",
    "mig",
    "mig_chen",
    "mig_chen_details",
    "mig_details",
    "mig_gaps",
    "model_elbo",
    "model_iwae_bound",
    "normalized_mse",
    "perplexity",
    "predict",
    "save_classifier",
    "train_classifier",
]
