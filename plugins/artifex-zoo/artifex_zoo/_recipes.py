"""The zoo's recipes: what ``artifex train --model NAME`` trains for each zoo model. No JAX.

Each is the built-in default (a Bernoulli MLP on dynamically binarized MNIST, 784-512-256-32, Adam 2e-3 with
warmup and cosine decay, batch 64) with the model's own parameters, and epochs sized so that the recipe
finishes within about 30 minutes on a 2-core CPU: a step of a k-sample bound decodes k times, so the epochs
shrink as the samples grow. ``docs/quality.md`` lists what each one measured.

Example:
    >>> RECIPES["iwae"]["model"]["parameters"], RECIPES["iwae"]["train"]["epochs"]
    ({'reconstruction_loss_type': 'bce', 'k': 5}, 45)
    >>> sorted(RECIPES)[:3]
    ['dip_vae', 'hierarchical_vae', 'info_vae']
"""

from __future__ import annotations

from typing import Any

from artifex_plugins import DEFAULT_MODEL, DEFAULT_TRAIN

__all__ = [
    "DIP_VAE_RECIPE",
    "HIERARCHICAL_VAE_RECIPE",
    "INFO_VAE_RECIPE",
    "IWAE_RECIPE",
    "MIWAE_RECIPE",
    "PIWAE_RECIPE",
    "RECIPES",
    "RECIPE_SUMMARIES",
    "VAMPPRIOR_RECIPE",
]


def _recipe(model: str, epochs: int, **parameters: Any) -> dict[str, dict[str, Any]]:
    return {
        "model": {**DEFAULT_MODEL, "model": model, "parameters": {"reconstruction_loss_type": "bce", **parameters}},
        "train": {**DEFAULT_TRAIN, "epochs": epochs},
    }


IWAE_RECIPE = _recipe("iwae", 45, k=5)
MIWAE_RECIPE = _recipe("miwae", 40, num_outer=2, num_inner=3)
PIWAE_RECIPE = _recipe("piwae", 30, num_outer=2, num_inner=3)
VAMPPRIOR_RECIPE = _recipe("vampprior", 120, num_pseudo_inputs=128)
HIERARCHICAL_VAE_RECIPE = _recipe("hierarchical_vae", 40, top_latent_dim=16, top_hidden_dims=[128], k=5)
HIERARCHICAL_VAE_RECIPE["model"]["latent_dim"] = 64
DIP_VAE_RECIPE = _recipe("dip_vae", 100, dip_type="i", lambda_od=10.0, lambda_d=100.0)
INFO_VAE_RECIPE = _recipe("info_vae", 100, alpha=0.0, lambda_=10.0, kernel="imq")

RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "iwae": IWAE_RECIPE,
    "miwae": MIWAE_RECIPE,
    "piwae": PIWAE_RECIPE,
    "vampprior": VAMPPRIOR_RECIPE,
    "hierarchical_vae": HIERARCHICAL_VAE_RECIPE,
    "dip_vae": DIP_VAE_RECIPE,
    "info_vae": INFO_VAE_RECIPE,
}
"""model name -> its recipe, each registered as ``artifex_zoo._recipes:NAME_RECIPE``."""

RECIPE_SUMMARIES: dict[str, str] = {
    "iwae": "Bernoulli MLP IWAE (k=5) on MNIST, 45 epochs",
    "miwae": "Bernoulli MLP MIWAE (M=2, K=3) on MNIST, 40 epochs",
    "piwae": "Bernoulli MLP PIWAE (M=2, K=3) on MNIST, 30 epochs",
    "vampprior": "Bernoulli MLP VAE with a VampPrior of 128 pseudo-inputs on MNIST, 120 epochs",
    "hierarchical_vae": "Bernoulli MLP two-layer VAE (z1=64, z2=16), IWAE bound k=5, on MNIST, 40 epochs",
    "dip_vae": "Bernoulli MLP DIP-VAE-I (lambda_od=10, lambda_d=100) on MNIST, 100 epochs",
    "info_vae": "Bernoulli MLP InfoVAE (alpha=0, lambda=10, IMQ kernel) on MNIST, 100 epochs",
}
