"""Evaluation: the :class:`Metric` contract, the test split it is given and the model-agnostic test loss.

The metrics themselves are registered in the ``metrics`` registry by plugins (the built-in plugin's are in
:mod:`artifex_plugins.metrics`); :func:`artifex_core.training.evaluate_run` runs every one that
applies. Importing this package imports no JAX.

- :mod:`~artifex_core.evaluation._metric`: :class:`Metric`, :class:`EvalData`, :func:`metric_options`.
- :mod:`~artifex_core.evaluation._loss`: :class:`LossMetric` (registered as ``test_loss``), :func:`loss_terms`.
- :mod:`~artifex_core.evaluation._progress`: :func:`report_progress`, how a long metric shows how far it is.

Example:
    >>> import numpy as np
    >>> class Examples(Metric):
    ...     def compute(self, run, data, *, seed):
    ...         return {"n": len(data.x_test)}
    >>> Examples().compute(None, EvalData(np.zeros((5, 2), np.float32), None, None), seed=0)
    {'n': 5}
"""

from __future__ import annotations

from artifex_core.evaluation._loss import LossMetric, loss_terms
from artifex_core.evaluation._metric import EvalData, Metric, metric_options
from artifex_core.evaluation._progress import ProgressCallback, progress_scope, report_progress

__all__ = [
    "EvalData",
    "LossMetric",
    "Metric",
    "ProgressCallback",
    "loss_terms",
    "metric_options",
    "progress_scope",
    "report_progress",
]
