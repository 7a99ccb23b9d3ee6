"""The built-in recipes: what a plain ``artifex train`` (or ``artifex train --model NAME``) trains. No JAX.

The default is a Bernoulli MLP VAE on MNIST with dynamic binarization: 784-512-256-32 (and back), Adam 2e-3
with a 100-step warmup and cosine decay to 5% over 100 epochs, batch 64. Measured test -ELBO after the first
epoch (seed 0): 116.6 nats; 119.5 with lr 1e-3; 127.1 with lr 1e-3 and batch 128. ``--epochs 1`` (the whole
cosine squeezed into one epoch) gives 118.5. Each recipe is a ``{"model": {...}, "train": {...}}`` mapping,
registered by :mod:`artifex_plugins.plugin` in the ``recipes`` registry under its :data:`RECIPES` name; a
config file or ``--set`` overrides any field. ``default`` is also the base of the fallback recipe of models
without their own (see :mod:`artifex_core.training._recipes`).

Example:
    >>> RECIPES["vqvae"]["model"]["parameters"]["embedding_dim"], RECIPES["vqvae"]["train"]["epochs"]
    (16, 30)
    >>> RECIPES["default"] == RECIPES["vae"]
    True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BETA_VAE_CAPACITY_RECIPE",
    "BETA_VAE_RECIPE",
    "CONDITIONAL_VAE_RECIPE",
    "DEFAULT_MODEL",
    "DEFAULT_RECIPE",
    "DEFAULT_TRAIN",
    "RECIPES",
    "VAE_RECIPE",
    "VQVAE_RECIPE",
]

DEFAULT_MODEL: dict[str, Any] = {
    "model": "vae",
    "encoder": "mlp",
    "decoder": "mlp",
    "hidden_dims": [512, 256],
    "latent_dim": 32,
    "activation": "relu",
    "parameters": {"reconstruction_loss_type": "bce"},
}
"""The default model: a Bernoulli MLP VAE (the input shape comes from the dataset)."""

DEFAULT_TRAIN: dict[str, Any] = {
    "dataset": "mnist",
    "epochs": 100,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 2e-3,
    "schedule": "warmup_cosine",
    "warmup_steps": 100,
    "final_lr_factor": 0.05,
    "binarize": "auto",
}
"""The default training: 100 epochs of MNIST, sized to finish within about 15 minutes on a 2-core CPU."""


def _recipe(model: dict[str, Any], train: dict[str, Any] = DEFAULT_TRAIN) -> dict[str, dict[str, Any]]:
    return {"model": model, "train": train}


DEFAULT_RECIPE = _recipe(DEFAULT_MODEL)
"""Plain ``artifex train``; also the base of the fallback recipe of models without their own."""
VAE_RECIPE = _recipe(DEFAULT_MODEL)
BETA_VAE_RECIPE = _recipe({**DEFAULT_MODEL, "model": "beta_vae"})
BETA_VAE_CAPACITY_RECIPE = _recipe({**DEFAULT_MODEL, "model": "beta_vae_capacity"})
CONDITIONAL_VAE_RECIPE = _recipe(
    {
        **DEFAULT_MODEL,
        "model": "conditional_vae",
        "embed_dim": 16,
        # KL weight 1.5: the decoder leans on the label more (at 20 epochs: 96.6% sample accuracy, against 95.8%
        # at 1.0, and a test -ELBO of 95.4 against 92.1 nats; docs/quality.md)
        "parameters": {"reconstruction_loss_type": "bce", "kl_weight": 1.5},
    }
)
VQVAE_RECIPE = _recipe(
    {
        **DEFAULT_MODEL,
        "model": "vqvae",
        "latent_dim": 64,
        "parameters": {"num_embeddings": 128, "embedding_dim": 16, "reconstruction_loss_type": "mse"},
    },
    {**DEFAULT_TRAIN, "epochs": 30},
)

RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "default": DEFAULT_RECIPE,
    "vae": VAE_RECIPE,
    "beta_vae": BETA_VAE_RECIPE,
    "beta_vae_capacity": BETA_VAE_CAPACITY_RECIPE,
    "conditional_vae": CONDITIONAL_VAE_RECIPE,
    "vqvae": VQVAE_RECIPE,
}
"""name -> recipe: ``default`` and one per built-in model, each registered as ``NAME_RECIPE`` of this module."""
