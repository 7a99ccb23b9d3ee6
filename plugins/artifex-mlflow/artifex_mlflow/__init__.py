"""artifex-mlflow: an MLflow logger for artifex-vae, as a third-party plugin.

Installing the distribution registers, through the ``artifex.plugins`` entry point ``mlflow``, the logger
``mlflow`` (:class:`~artifex_mlflow.logger.MlflowLogger`): ``artifex train --logger mlflow``.

Registration uses a lazy ``"module:attr"`` string and this module imports neither MLflow nor JAX, so
``artifex list`` stays fast. ``MlflowLogger`` is imported on first attribute access.

Example:
    >>> from artifex_core.registry import loggers
    >>> loggers.entry("mlflow").qualified_id
    'mlflow:mlflow'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from artifex_core import hookimpl
from artifex_core.registry import Registries

if TYPE_CHECKING:  # pragma: no cover
    from artifex_mlflow.logger import MlflowLogger

__all__ = ["MlflowLogger", "artifex_register"]


@hookimpl
def artifex_register(registry: Registries) -> None:
    """Register the ``mlflow`` logger (lazily: MLflow is imported when a run attaches it)."""
    registry.loggers.register(
        "mlflow",
        "artifex_mlflow.logger:MlflowLogger",
        summary="MLflow run: flattened config as params, stepped metrics, pictures and config.json as artifacts",
    )


def __getattr__(name: str) -> Any:
    if name == "MlflowLogger":
        return importlib.import_module("artifex_mlflow.logger").MlflowLogger
    raise AttributeError(f"module 'artifex_mlflow' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
