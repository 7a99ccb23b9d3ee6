"""Training: ``TrainConfig``, run plans, the model-agnostic :class:`Trainer`, checkpoints, data parallelism,
run folders, evaluation.

This ``__init__`` is the package's public API (its modules are private). A run is planned once
(:func:`plan_run`: every config resolved and checked, nothing written), then executed (:func:`run_plan`);
:func:`run_training` does both. ``TrainConfig``, ``RunDir``, ``RunLock``, ``Callback``, ``Logger``,
``JsonlLogger`` and the multi-process settings (:func:`resolve_distributed`) import no JAX; the rest is
imported on first use.

Example:
    >>> from artifex_core.training import TrainConfig
    >>> TrainConfig(epochs=3).epochs
    3
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from artifex_core.training._callbacks import Callback, FitResult
from artifex_core.training._distributed import (
    DEFAULT_DISTRIBUTED_TIMEOUT_S,
    DistributedConfigError,
    DistributedInitError,
    DistributedSpec,
    DistributedStepError,
    agree,
    initialize_distributed,
    resolve_distributed,
)
from artifex_core.training._config import OPTIMIZERS, SCHEDULES, Optimizer, Schedule, TrainConfig, TrainConfigError
from artifex_core.training._groups import MAIN_GROUP, ParamGroup, optimizer_groups_of
from artifex_core.training._loggers import JsonlLogger, Logger, LoggerGroup, LoggerWarning, build_loggers, logger_names
from artifex_core.training._run_dir import RunDir, RunDirError
from artifex_core.training._run_lock import RunLock, RunLockedError

if TYPE_CHECKING:
    from artifex_core.training._trainer import NonFiniteLossError, Trainer
    from artifex_core.training._checkpoint import CheckpointWarning, Checkpointer
    from artifex_core.training._manifest import CheckpointError
    from artifex_core.training._curves import CurvesCallback
    from artifex_core.training._compile_cache import compile_cache_disabled, enable_compile_cache
    from artifex_core.training._evaluate import EVALUATION_FILE, EvaluationProgress, MetricOptionError, evaluate_run, load_test_split, read_evaluation, save_evaluation, select_metrics
    from artifex_core.training._sharding import init_distributed, is_main_process, make_mesh, put_on_mesh, replicated_sharding, to_local
    from artifex_core.training._optim import make_optimizer, make_schedule
    from artifex_core.training._plan import FitPlan, RunPlan, RunSetupError, model_config_for, plan_fit, plan_run, resolve_train_config
    from artifex_core.training._recipes import Recipe, RecipeError, default_recipe, load_recipe, recipe
    from artifex_core.training._resources import ResourceError, check_model_fits
    from artifex_core.training._run import LoadedRun, TrainingRun, build_model, load_run, run_plan, run_training
    from artifex_core.training._sampling import SampleResult, draw_samples, make_sampler, resolve_sampler, sampler_cache_path
    from artifex_core.training._state_paths import legacy_state_paths
    from artifex_core.training._step_loss import scalar_metrics
    from artifex_core.training._steps import StepSpec, make_train_step
    from artifex_core.training._tracking import log_scalars, record_scalars, run_params

__all__ = [
    "DEFAULT_DISTRIBUTED_TIMEOUT_S",
    "EVALUATION_FILE",
    "MAIN_GROUP",
    "OPTIMIZERS",
    "SCHEDULES",
    "Callback",
    "CheckpointError",
    "CheckpointWarning",
    "Checkpointer",
    "CurvesCallback",
    "DistributedConfigError",
    "DistributedInitError",
    "DistributedSpec",
    "DistributedStepError",
    "EvaluationProgress",
    "FitPlan",
    "FitResult",
    "JsonlLogger",
    "LoadedRun",
    "Logger",
    "LoggerGroup",
    "LoggerWarning",
    "MetricOptionError",
    "NonFiniteLossError",
    "SampleResult",
    "Optimizer",
    "ParamGroup",
    "Recipe",
    "RecipeError",
    "ResourceError",
    "RunDir",
    "RunDirError",
    "RunLock",
    "RunLockedError",
    "RunPlan",
    "RunSetupError",
    "Schedule",
    "StepSpec",
    "TrainConfig",
    "TrainConfigError",
    "Trainer",
    "TrainingRun",
    "agree",
    "build_loggers",
    "build_model",
    "check_model_fits",
    "compile_cache_disabled",
    "default_recipe",
    "enable_compile_cache",
    "evaluate_run",
    "init_distributed",
    "initialize_distributed",
    "is_main_process",
    "legacy_state_paths",
    "load_recipe",
    "load_run",
    "draw_samples",
    "make_sampler",
    "resolve_sampler",
    "sampler_cache_path",
    "load_test_split",
    "log_scalars",
    "logger_names",
    "make_mesh",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "model_config_for",
    "optimizer_groups_of",
    "plan_fit",
    "plan_run",
    "put_on_mesh",
    "read_evaluation",
    "recipe",
    "record_scalars",
    "replicated_sharding",
    "resolve_distributed",
    "resolve_train_config",
    "run_params",
    "run_plan",
    "run_training",
    "save_evaluation",
    "scalar_metrics",
    "select_metrics",
    "to_local",
]

_LAZY = {
    "NonFiniteLossError": "artifex_core.training._trainer",
    "Trainer": "artifex_core.training._trainer",
    "CheckpointError": "artifex_core.training._manifest",
    "CheckpointWarning": "artifex_core.training._checkpoint",
    "Checkpointer": "artifex_core.training._checkpoint",
    "CurvesCallback": "artifex_core.training._curves",
    "compile_cache_disabled": "artifex_core.training._compile_cache",
    "enable_compile_cache": "artifex_core.training._compile_cache",
    "EVALUATION_FILE": "artifex_core.training._evaluate",
    "EvaluationProgress": "artifex_core.training._evaluate",
    "MetricOptionError": "artifex_core.training._evaluate",
    "evaluate_run": "artifex_core.training._evaluate",
    "load_test_split": "artifex_core.training._evaluate",
    "read_evaluation": "artifex_core.training._evaluate",
    "save_evaluation": "artifex_core.training._evaluate",
    "select_metrics": "artifex_core.training._evaluate",
    "init_distributed": "artifex_core.training._sharding",
    "put_on_mesh": "artifex_core.training._sharding",
    "to_local": "artifex_core.training._sharding",
    "is_main_process": "artifex_core.training._sharding",
    "make_mesh": "artifex_core.training._sharding",
    "replicated_sharding": "artifex_core.training._sharding",
    "make_optimizer": "artifex_core.training._optim",
    "make_schedule": "artifex_core.training._optim",
    "FitPlan": "artifex_core.training._plan",
    "RunPlan": "artifex_core.training._plan",
    "RunSetupError": "artifex_core.training._plan",
    "model_config_for": "artifex_core.training._plan",
    "plan_fit": "artifex_core.training._plan",
    "plan_run": "artifex_core.training._plan",
    "resolve_train_config": "artifex_core.training._plan",
    "Recipe": "artifex_core.training._recipes",
    "RecipeError": "artifex_core.training._recipes",
    "default_recipe": "artifex_core.training._recipes",
    "load_recipe": "artifex_core.training._recipes",
    "recipe": "artifex_core.training._recipes",
    "ResourceError": "artifex_core.training._resources",
    "check_model_fits": "artifex_core.training._resources",
    "LoadedRun": "artifex_core.training._run",
    "TrainingRun": "artifex_core.training._run",
    "build_model": "artifex_core.training._run",
    "load_run": "artifex_core.training._run",
    **{name: "artifex_core.training._sampling" for name in (
        "SampleResult", "draw_samples", "make_sampler", "resolve_sampler", "sampler_cache_path")},
    "run_plan": "artifex_core.training._run",
    "run_training": "artifex_core.training._run",
    "legacy_state_paths": "artifex_core.training._state_paths",
    "StepSpec": "artifex_core.training._steps",
    "make_train_step": "artifex_core.training._steps",
    "scalar_metrics": "artifex_core.training._step_loss",
    "log_scalars": "artifex_core.training._tracking",
    "record_scalars": "artifex_core.training._tracking",
    "run_params": "artifex_core.training._tracking",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
