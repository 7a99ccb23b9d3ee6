"""Evaluation metrics as plain functions: likelihood bounds, latent statistics, VQ usage, sample accuracy
and disentanglement.

- :mod:`~artifex_core.evaluation.likelihood`: importance-weighted NLL bound (:func:`iwae_nll`).
- :mod:`~artifex_core.evaluation.latents`: :func:`active_units`, :func:`encode_means`.
- :mod:`~artifex_core.evaluation.vq`: :func:`normalized_mse`, :func:`perplexity`, :func:`codes_used`.
- :mod:`~artifex_core.evaluation.classifier`: a cached MLP classifier and :func:`classifier_accuracy`.
- :mod:`~artifex_core.evaluation.disentanglement`: :func:`mig` and :func:`factor_vae_score`.
- :mod:`~artifex_core.evaluation.dsprites_eval`: :func:`dsprites_disentanglement`, both on procedural dSprites.

Importing this package imports JAX and Flax (the likelihood bound and the classifier need them); the NumPy-only
metrics can be imported from their modules directly.

Example:
    >>> import numpy as np
    >>> from artifex_core.evaluation import active_units, perplexity
    >>> active_units(np.array([[0.0, 1.0], [1.0, 1.0]])), perplexity(np.array([0, 1]), 4)
    (1, 2.0)
"""

from __future__ import annotations

from artifex_core.evaluation.classifier import (
    Classifier,
    classifier_accuracy,
    load_classifier,
    load_or_train_classifier,
    predict,
    save_classifier,
    train_classifier,
)
from artifex_core.evaluation.disentanglement import (
    discrete_entropy,
    discrete_mutual_information,
    discretize,
    factor_vae_details,
    factor_vae_score,
    mig,
    mig_details,
)
from artifex_core.evaluation.dsprites_eval import dsprites_disentanglement
from artifex_core.evaluation.latents import active_units, encode_means, latent_variances
from artifex_core.evaluation.likelihood import (
    bernoulli_log_likelihood,
    from_reconstruction_loss,
    gaussian_log_likelihood,
    iwae_bound,
    iwae_nll,
    model_iwae_nll,
)
from artifex_core.evaluation.vq import code_counts, codes_used, normalized_mse, perplexity

__all__ = [
    "Classifier",
    "active_units",
    "bernoulli_log_likelihood",
    "classifier_accuracy",
    "code_counts",
    "codes_used",
    "discrete_entropy",
    "discrete_mutual_information",
    "discretize",
    "dsprites_disentanglement",
    "encode_means",
    "factor_vae_details",
    "factor_vae_score",
    "from_reconstruction_loss",
    "gaussian_log_likelihood",
    "iwae_bound",
    "iwae_nll",
    "latent_variances",
    "load_classifier",
    "load_or_train_classifier",
    "mig",
    "mig_details",
    "model_iwae_nll",
    "normalized_mse",
    "perplexity",
    "predict",
    "save_classifier",
    "train_classifier",
]
