"""The plugin's metric: how far the model's deterministic reconstructions are from the test images."""

from __future__ import annotations

from typing import Any

import numpy as np

from artifex_core.evaluation import EvalData, Metric


class ReconstructionError(Metric):
    """Mean absolute error of ``model.reconstruct(x, deterministic=True)`` on the test split."""

    def __init__(self, *, batch_size: int = 256) -> None:
        self.batch_size = batch_size

    def applies(self, run: Any) -> bool:
        return run.model_config.model in ("tiny_vae", "good:tiny_vae")  # this plugin's own model

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        import jax.numpy as jnp

        errors = []
        for start in range(0, len(data.x_test), self.batch_size):
            x = data.x_test[start : start + self.batch_size]
            x_hat = np.asarray(run.model.reconstruct(jnp.asarray(x), deterministic=True))
            errors.append(np.abs(x_hat.reshape(x.shape) - x).mean(axis=tuple(range(1, x.ndim))))
        return {"mae": float(np.concatenate(errors).mean()), "examples": int(len(data.x_test))}
