"""The metric contract: what ``artifex evaluate`` runs for every metric registered in the ``metrics`` registry.

A metric is a :class:`Metric` subclass registered by name, lazily (``"module:Class"``), by a plugin's
``artifex_register(registry)`` hook::

    registry.metrics.register("mean_pixel", "my_plugin.metrics:MeanPixel", summary="Mean test pixel value")

For each run, :func:`artifex_core.training.evaluate_run` instantiates the class with the options it
declares (keyword arguments of ``__init__`` with defaults, e.g. ``k`` for the IWAE bound: ``artifex evaluate
--k 5000`` or ``--option iwae.k=5000``), asks :meth:`Metric.applies` whether it fits the run's model and
calls :meth:`Metric.compute` with the test split as the model sees it (:class:`EvalData`). What ``compute``
returns is reported under ``"metrics": {name: figures}``; an exception is reported as that metric's error
and the other metrics still run.

Importing this module imports no JAX.

Example:
    >>> import numpy as np
    >>> class MeanPixel(Metric):
    ...     '''Mean value of the test images.'''
    ...     def __init__(self, *, scale: float = 1.0) -> None:
    ...         self.scale = scale
    ...     def compute(self, run, data, *, seed):
    ...         return {"mean": self.scale * float(data.x_test.mean())}
    >>> data = EvalData(np.ones((2, 3), np.float32), None, dataset=None)
    >>> MeanPixel(scale=2.0).compute(None, data, seed=0), MeanPixel().applies(None)
    ({'mean': 2.0}, True)
"""

from __future__ import annotations

import abc
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core.data._dataset import Dataset
    from artifex_core.training._run import LoadedRun

__all__ = ["EvalData", "Metric", "metric_options"]


@dataclass(frozen=True)
class EvalData:
    """The test split of a run, as its model sees it.

    Attributes:
        x_test: ``float32`` test examples in data space, binarized as the trainer binarized them (the same
            seeded bits), first ``--limit`` only.
        y_test: Their labels (``(N,)`` integers), or ``None`` for an unlabelled dataset.
        dataset: The whole :class:`~artifex_core.data.Dataset` (e.g. its training split, its name).

    Example:
        >>> EvalData(np.zeros((4, 2), np.float32), np.arange(4), dataset=None).x_test.shape
        (4, 2)
    """

    x_test: np.ndarray
    y_test: np.ndarray | None
    dataset: Dataset | None


class Metric(abc.ABC):
    """Base class of every metric that ``artifex evaluate`` runs.

    Subclasses implement :meth:`compute` (abstract: a subclass without it cannot be instantiated) and may
    override :meth:`applies`. Options are keyword arguments
    of ``__init__`` with defaults (``def __init__(self, *, k: int = 1000)``); the evaluation passes only the
    ones a metric declares (see :func:`metric_options`). A metric registered as an instance is used as it is.

    Example:
        >>> class Count(Metric):
        ...     def compute(self, run, data, *, seed):
        ...         return {"examples": len(data.x_test)}
        >>> Count().compute(None, EvalData(np.zeros((3, 1), np.float32), None, None), seed=0)
        {'examples': 3}
    """

    def applies(self, run: LoadedRun) -> bool:
        """Whether this metric fits ``run`` (its model's declared contract, its dataset); default True.

        Args:
            run: The loaded run: ``.model``, ``.model_config``, ``.train_config``, ``.epoch``, ``.run_dir``.
        """
        return True

    @abc.abstractmethod
    def compute(self, run: LoadedRun, data: EvalData, *, seed: int) -> dict[str, Any]:
        """The metric's figures for ``run`` on ``data``: a JSON-ready dict (numbers, strings, lists, dicts).

        Args:
            run: The loaded run (its model is in eval mode).
            data: The test split as the model sees it.
            seed: Seed of anything random (samples, importance weights): the same seed gives the same figures.
        """


def metric_options(cls: type) -> dict[str, Any]:
    """The options a metric class declares: its keyword ``__init__`` arguments with defaults, by name.

    Example:
        >>> class WithK(Metric):
        ...     def __init__(self, *, k: int = 1000, batch_size: int = 64) -> None: ...
        >>> metric_options(WithK)
        {'k': 1000, 'batch_size': 64}
        >>> metric_options(Metric)
        {}
    """
    init = getattr(cls, "__init__")  # noqa: B009 - the class's own, not an instance's
    if init is object.__init__:
        return {}
    try:
        params = inspect.signature(init).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return {}
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {
        p.name: p.default
        for p in params
        if p.name != "self" and p.kind in kinds and p.default is not inspect.Parameter.empty
    }
