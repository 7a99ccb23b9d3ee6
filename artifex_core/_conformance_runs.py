"""Conformance checks that drive a component through a stand-in run: loggers (a whole fit and a resume, no
JAX) and metrics (a tiny untrained model). Re-exported by :mod:`artifex_core.testing`.

Example:
    >>> # check_logger("jsonl"); check_metric("elbo")   # raise ConformanceError naming what is wrong
"""

from __future__ import annotations

import json
from typing import Any

from artifex_core._conformance import ConformanceError, _check, tiny_config
from artifex_core._config import ModelConfig

__all__ = ["check_logger", "check_metric"]


def check_logger(name: str, *, epochs: int = 2, **kwargs: Any) -> dict[str, Any]:
    """Check that registered logger ``name`` meets the logger contract, without JAX or a real run.

    Loads the class, constructs it as ``cls(run_dir, **kwargs)`` on a temporary run folder, then drives a
    whole fit with a stand-in trainer (``config``, ``epoch``, ``step``, ``steps_per_epoch``, ``total_steps``
    and ``run``): ``on_fit_start(trainer, 0)``, per epoch two ``on_log`` calls, ``on_epoch_end`` with a
    ``metrics.jsonl``-shaped record and (when the logger has it) ``on_images`` with an 8x8 grey ``samples``
    picture, ``on_fit_end``, ``close()``; then a resumed fit from epoch 1 on a new instance. The temporary folder is removed afterwards.

    Args:
        name: A registered logger name, alias or qualified id.
        epochs: Epochs to drive.
        **kwargs: The logger's options.

    Returns:
        A small report: the logger's class name and the files it wrote (relative to the run folder).

    Raises:
        ConformanceError: Naming the first broken promise (not a Callback class, a hook that raised, a
            file written outside the run folder's tree).

    Example:
        >>> check_logger("jsonl")
        {'logger': 'JsonlLogger', 'files': ['metrics.jsonl']}
    """
    import tempfile
    import types
    from pathlib import Path

    import numpy as np

    from artifex_core._registry import loggers
    from artifex_core.training._callbacks import Callback, FitResult
    from artifex_core.training._config import TrainConfig
    from artifex_core.training._run_dir import RunDir

    cls = loggers.get(name)
    _check(isinstance(cls, type) and issubclass(cls, Callback), f"logger {name!r} is not a Callback class: {cls!r}")
    steps = 4
    with tempfile.TemporaryDirectory(prefix="artifex-check-logger-") as tmp:
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        config = TrainConfig(epochs=epochs, batch_size=8, log_every=2)
        trainer = types.SimpleNamespace(
            config=config, epoch=0, step=0, steps_per_epoch=steps, total_steps=epochs * steps, run=RunDir(run_dir)
        )

        def drive(logger: Any, start: int) -> None:
            def call(hook: str, *args: Any) -> None:
                try:
                    getattr(logger, hook)(*args)
                except Exception as exc:  # noqa: BLE001 - reported as a broken promise
                    raise ConformanceError(f"logger {name!r} raised in {hook}: {type(exc).__name__}: {exc}") from exc

            history = []
            trainer.epoch, trainer.step = start, start * steps
            call("on_fit_start", trainer, start)
            for epoch in range(start + 1, epochs + 1):
                trainer.epoch = epoch
                for _ in range(2):
                    trainer.step += steps // 2
                    call("on_log", trainer, trainer.step, {"loss": 1.0 / epoch, "kl_loss": 0.1})
                record = {
                    "epoch": epoch, "step": trainer.step, "train": {"loss": 1.0 / epoch, "kl_loss": 0.1},
                    "test": {"loss": 1.1 / epoch, "kl_loss": 0.1}, "lr": 1e-3, "epoch_time_s": 0.01,
                    "eval_time_s": 0.01, "examples_per_s": 3200.0, "elapsed_s": 0.02 * epoch,
                }
                history.append(record)
                call("on_epoch_end", trainer, record)
                if callable(getattr(logger, "on_images", None)):
                    call("on_images", trainer, epoch, {"samples": np.full((8, 8, 1), 128, np.uint8)})
            call("on_fit_end", trainer, FitResult(history=history, start_epoch=start, best_epoch=epochs))
            call("close")

        try:
            first = cls(run_dir, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise ConformanceError(f"logger {name!r} cannot be built as cls(run_dir, **kwargs): {exc}") from exc
        drive(first, 0)
        if epochs > 1:
            drive(cls(run_dir, **kwargs), 1)  # a resumed run: same folder, new instance
        outside = [p.name for p in Path(tmp).iterdir() if p != run_dir]
        _check(not outside, f"logger {name!r} wrote outside the run folder: {outside}")
        files = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file())
    return {"logger": cls.__name__, "files": files}


def check_metric(
    name: str,
    *,
    model: str | None = None,
    config: ModelConfig | None = None,
    examples: int = 16,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """Check that registered metric ``name`` meets the metric contract on a tiny untrained model.

    Builds ``config`` (default :func:`tiny_config` of ``model``) as a stand-in :class:`LoadedRun` (epoch 0,
    a temporary run folder), makes ``examples`` random test examples in [0, 1] (labels when conditional),
    constructs the metric with ``options`` (only those it declares), and checks that ``applies`` returns a
    bool and, when it applies, that ``compute`` returns a JSON-serializable dict of finite numbers that is
    the same for the same seed.

    Args:
        name: A registered metric name, alias or qualified id.
        model: The registered model to build when ``config`` is None (None: ``ModelConfig``'s default model).
        config: The model config to build.
        examples: Number of test examples.
        seed: The seed passed to ``compute``.
        **options: The metric's options (keyword arguments of its ``__init__``).

    Returns:
        ``{"metric": class name, "applies": bool, "figures": what compute returned (or None)}``.

    Raises:
        ConformanceError: Naming the first broken promise (not a Metric, unknown option, applies not a bool,
            compute raising or returning something that is not JSON with finite numbers, not reproducible).

    Example:
        >>> check_metric("test_loss", examples=4)["figures"]["loss"] > 0
        True
    """
    import tempfile
    from pathlib import Path

    import numpy as np
    from flax import nnx

    from artifex_core.evaluation import EvalData, Metric, metric_options
    from artifex_core._factory import create_model
    from artifex_core._registry import metrics
    from artifex_core.training._config import TrainConfig
    from artifex_core.training._run import LoadedRun
    from artifex_core.training._run_dir import RunDir

    target = metrics.get(name)
    _check(isinstance(target, Metric) or (isinstance(target, type) and issubclass(target, Metric)),
           f"metric {name!r} is not a Metric subclass or instance: {target!r}")
    if isinstance(target, type):
        declared = metric_options(target)
        unknown = sorted(set(options) - set(declared))
        _check(not unknown, f"metric {name!r} does not declare option(s) {unknown} (declares: {sorted(declared)})")
        metric = target(**options)
    else:
        metric = target
    cfg = config or tiny_config(model or ModelConfig.model_fields["model"].default)
    rng = np.random.default_rng(seed)
    x = rng.random((examples, *cfg.input_dim)).astype(np.float32)
    y = rng.integers(0, cfg.num_classes, examples) if cfg.conditional and cfg.num_classes else None
    data = EvalData(x, y, dataset=None)
    built = create_model(cfg, rngs=nnx.Rngs(seed))
    built.eval()
    with tempfile.TemporaryDirectory(prefix="artifex-check-metric-") as tmp:
        run = LoadedRun(built, cfg, TrainConfig(epochs=1), 0, {}, RunDir(Path(tmp)), {})
        applies = metric.applies(run)
        _check(isinstance(applies, bool), f"metric {name!r}: applies() must return a bool, got {applies!r}")
        if not applies:
            return {"metric": type(metric).__name__, "applies": False, "figures": None}
        try:
            figures = metric.compute(run, data, seed=seed)
            again = metric.compute(run, data, seed=seed)
        except Exception as exc:  # noqa: BLE001 - reported as a broken promise
            raise ConformanceError(f"metric {name!r} raised in compute: {type(exc).__name__}: {exc}") from exc
    _check(isinstance(figures, dict), f"metric {name!r}: compute() must return a dict, got {type(figures).__name__}")
    try:
        text = json.dumps(figures, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConformanceError(f"metric {name!r}: compute() must return JSON with finite numbers: {exc}") from None
    _check(text == json.dumps(again, allow_nan=False), f"metric {name!r}: compute() differs for the same seed")
    return {"metric": type(metric).__name__, "applies": True, "figures": figures}
