"""Training: ``TrainConfig``, run plans, the model-agnostic :class:`Trainer`, checkpoints, data parallelism,
run folders.

A run is planned once (:func:`plan_run`: every config resolved and checked, nothing written), then executed
(:func:`run_plan`); :func:`run_training` does both. ``TrainConfig``, ``RunDir``, ``Callback``, ``Logger``,
``JsonlLogger`` and the plan module import no JAX; the rest is imported on first use.

Example:
    >>> from artifex_core.training import TrainConfig
    >>> TrainConfig(epochs=3).epochs
    3
"""

from __future__ import annotations

import importlib
from typing import Any

from artifex_core.training.callbacks import Callback, FitResult
from artifex_core.training.config import OPTIMIZERS, SCHEDULES, Optimizer, Schedule, TrainConfig
from artifex_core.training.loggers import JsonlLogger, Logger, LoggerWarning
from artifex_core.training.run_dir import RunDir, RunDirError

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "Callback",
    "Checkpointer",
    "CurvesCallback",
    "FitPlan",
    "FitResult",
    "JsonlLogger",
    "Logger",
    "LoggerWarning",
    "NonFiniteLossError",
    "Optimizer",
    "RunDir",
    "RunDirError",
    "RunPlan",
    "Schedule",
    "TrainConfig",
    "Trainer",
    "enable_compile_cache",
    "init_distributed",
    "legacy_state_paths",
    "load_run",
    "make_mesh",
    "make_optimizer",
    "make_schedule",
    "plan_fit",
    "plan_run",
    "run_plan",
    "run_training",
]

_LAZY = {
    "NonFiniteLossError": "artifex_core.training.trainer",
    "Trainer": "artifex_core.training.trainer",
    "Checkpointer": "artifex_core.training.checkpoint",
    "CurvesCallback": "artifex_core.training.curves",
    "enable_compile_cache": "artifex_core.training.compile_cache",
    "init_distributed": "artifex_core.training.sharding",
    "make_mesh": "artifex_core.training.sharding",
    "make_optimizer": "artifex_core.training.optim",
    "make_schedule": "artifex_core.training.optim",
    "FitPlan": "artifex_core.training.plan",
    "RunPlan": "artifex_core.training.plan",
    "plan_fit": "artifex_core.training.plan",
    "plan_run": "artifex_core.training.plan",
    "legacy_state_paths": "artifex_core.training.state_paths",
    "load_run": "artifex_core.training.run",
    "run_plan": "artifex_core.training.run",
    "run_training": "artifex_core.training.run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
