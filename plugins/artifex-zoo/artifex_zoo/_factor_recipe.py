"""FactorVAE's recipe: what ``artifex train --model factorvae`` trains. No JAX.

The built-in default (a Bernoulli MLP on dynamically binarized MNIST, 784-512-256-32, Adam 2e-3 with warmup
and cosine decay, batch 64) with γ = 10 and a discriminator of three hidden layers of 512 (the paper's five
of 1000 roughly doubles the step on a 2-core CPU); its Adam is the paper's (lr 1e-4, β = (0.5, 0.9)).
50 epochs keep it within about 30 minutes on a 2-core CPU.

Example:
    >>> FACTORVAE_RECIPE["model"]["parameters"]["gamma"], FACTORVAE_RECIPE["train"]["epochs"]
    (10.0, 50)
"""

from __future__ import annotations

from typing import Any

from artifex_plugins import DEFAULT_MODEL, DEFAULT_TRAIN

__all__ = ["FACTORVAE_RECIPE", "FACTORVAE_SUMMARY"]

FACTORVAE_RECIPE: dict[str, dict[str, Any]] = {
    "model": {
        **DEFAULT_MODEL,
        "model": "factorvae",
        "parameters": {"reconstruction_loss_type": "bce", "gamma": 10.0, "discriminator_hidden": [512, 512, 512]},
    },
    "train": {**DEFAULT_TRAIN, "epochs": 50},
}
FACTORVAE_SUMMARY = "Bernoulli MLP FactorVAE (gamma 10, discriminator 3x512) on MNIST, 50 epochs"
