"""The test loss: the model's own ``loss_fn`` on the test split, each term averaged over the examples.

Model-agnostic (it needs only the :class:`~artifex_core.GenerativeModel` ``loss_fn``), so it lives
in the core; the built-in plugin registers it as the ``test_loss`` metric. For the VAE family the terms are
the −ELBO (``loss``) and its reconstruction and KL parts, in nats per example, as the trainer's test
evaluation computes them (every schedule finished, the same jitted step).

Example:
    >>> # loss_terms(model, x_test, None, conditional=False)["loss"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from artifex_core.evaluation._metric import EvalData, Metric

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core.training._run import LoadedRun

__all__ = ["LossMetric", "loss_terms"]


def loss_terms(
    model: Any, x: np.ndarray, y: np.ndarray | None, *, conditional: bool, batch_size: int = 1000
) -> dict[str, float]:
    """Mean ``loss_fn`` terms over ``x`` (eval mode, schedules finished), weighted by batch sizes.

    Args:
        model: An NNX model with ``loss_fn``; it is switched to eval mode.
        x: Examples, as the model sees them.
        y: Their labels (passed to conditional models).
        conditional: Whether the model takes labels.
        batch_size: Examples per jitted batch.

    Raises:
        ValueError: For no examples or a non-positive ``batch_size``.
    """
    import jax
    import jax.numpy as jnp

    from artifex_core.training._steps import make_eval_step, split_params

    if len(x) == 0:
        raise ValueError("no test examples to evaluate")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    model.eval()
    graphdef, params, rest = split_params(model)
    step = make_eval_step(graphdef, conditional)
    totals: dict[str, float] = {}
    for start in range(0, len(x), batch_size):
        xb = jnp.asarray(x[start : start + batch_size])
        yb = None if y is None else jnp.asarray(y[start : start + batch_size])
        m = jax.device_get(step(params, rest, xb, yb))
        for k, v in m.items():
            totals[k] = totals.get(k, 0.0) + float(v) * len(xb)
    return {k: v / len(x) for k, v in totals.items()}


class LossMetric(Metric):
    """The test loss and its terms (``loss_fn`` on the test split): −ELBO, reconstruction, KL, ...

    Args:
        batch_size: Examples per evaluation batch.

    Example:
        >>> LossMetric(batch_size=500).batch_size
        500
    """

    def __init__(self, *, batch_size: int = 1000) -> None:
        self.batch_size = int(batch_size)

    def compute(self, run: LoadedRun, data: EvalData, *, seed: int) -> dict[str, Any]:
        """``{term: mean value}`` of the model's ``loss_fn`` over ``data.x_test``."""
        conditional = bool(run.model_config.conditional)
        y = data.y_test if conditional else None
        return loss_terms(run.model, data.x_test, y, conditional=conditional, batch_size=self.batch_size)
