"""Evaluate a trained run on its test split: every registered metric that applies, what ``artifex evaluate`` prints.

The loop knows no metric by name. It loads the test split as the model saw it in training (the same seeded
split and binarization, :class:`~artifex_core.evaluation.EvalData`), then for each entry of the ``metrics``
registry (or those asked for): instantiates the :class:`~artifex_core.evaluation.Metric` with the options it
declares, asks ``applies(run)`` and runs ``compute(run, data, seed=seed)``. Each metric's figures go under
``report["metrics"][name]``; a metric that raises gets ``{"error": "Type: message"}`` there instead (and
``on_error`` is called), and the others still run.

Options reach a metric in two ways, both checked against what its ``__init__`` declares:

- shared options (``k=5000``, ``batch_size=...``): every selected metric that declares the keyword gets it
  (``artifex evaluate --k 5000``); one that no registered metric declares is an error;
- per-metric options, ``options={"iwae": {"k": 5000}}`` (``--option iwae.k=5000``): an option the metric does
  not declare is an error that lists the ones it does.

:func:`save_evaluation` (:mod:`~artifex_core.training._evaluation_file`) keeps a report in the run folder as ``evaluation.json`` (atomically), with the
arguments that produced it; :func:`read_evaluation` reads it back (``artifex report`` shows it).

Example:
    >>> # report = evaluate_run(load_run("runs/demo"), k=1000)
    >>> # report["metrics"]["test_loss"]["loss"], report["metrics"]["elbo"]["bits_per_dim"]
    >>> # save_evaluation(report, {"k": 1000, "checkpoint": "latest"})  # runs/demo/evaluation.json
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from artifex_core.data._dataset import Dataset
from artifex_core.evaluation._metric import EvalData, Metric, metric_options
from artifex_core.evaluation._progress import progress_scope
from artifex_core._entry import Entry
from artifex_core._name_registry import Registry
from artifex_core.training._evaluation_file import EVALUATION_FILE, json_safe, read_evaluation, save_evaluation

__all__ = [
    "EVALUATION_FILE",
    "EvaluationProgress",
    "MetricOptionError",
    "evaluate_run",
    "json_safe",
    "load_test_split",
    "read_evaluation",
    "save_evaluation",
    "select_metrics",
]

"""The file :func:`save_evaluation` writes in the run folder."""


class EvaluationProgress(Protocol):
    """What :func:`evaluate_run` tells as it goes (``artifex evaluate`` draws it on stderr).

    Example:
        >>> class Lines:
        ...     def start(self, name, index, total): print(f"[{index}/{total}] {name}")
        ...     def finish(self, name, seconds, ok): print(f"{name}: {'ok' if ok else 'failed'}")
        >>> Lines().start("elbo", 1, 3)
        [1/3] elbo
    """

    def start(self, name: str, index: int, total: int) -> None:
        """Metric ``name`` (the ``index``-th of ``total`` that apply) starts."""

    def finish(self, name: str, seconds: float, ok: bool) -> None:
        """Metric ``name`` ended after ``seconds`` (``ok`` False: it raised)."""

    # Optional: ``advance(name, done, total)``, called as a long metric reports its progress
    # (:func:`artifex_core.evaluation.report_progress`); without it, such reports are not shown.


class MetricOptionError(ValueError):
    """An option that no selected metric declares, or that a metric rejects (a usage error)."""


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from artifex_core._registry import metrics

    return metrics


def select_metrics(names: Sequence[str] | None = None, *, registry: Registry | None = None) -> dict[str, Entry]:
    """The metric entries to run, keyed by the name they are reported under.

    Args:
        names: Names, aliases or qualified ids (``plugin:name``); ``None`` or empty: every registered metric.
        registry: Where to look (default: the ``metrics`` registry).

    Returns:
        ``{name: entry}``; a name two plugins register is keyed by each one's qualified id.

    Raises:
        UnknownNameError: For an unknown name, with close matches.
        AmbiguousNameError: For a name two plugins register (give ``plugin:name``).
    """
    reg = _registry(registry)
    if names:
        chosen = [reg.entry(n) for n in dict.fromkeys(names)]
    else:
        chosen = reg.entries()
    counts: dict[str, int] = {}
    for e in reg.entries():
        counts[e.name] = counts.get(e.name, 0) + 1
    selected: dict[str, Entry] = {}
    for e in chosen:
        selected.setdefault(e.name if counts.get(e.name, 1) == 1 else e.qualified_id, e)
    return selected


def _metric_class(name: str, target: Any) -> type | None:
    """The class whose ``__init__`` takes the options (``None`` for a metric registered as an instance)."""
    if isinstance(target, type) and issubclass(target, Metric):
        return target
    if isinstance(target, Metric):
        return None
    raise TypeError(
        f"metric {name!r} is registered as {type(target).__name__} {target!r}: register a Metric subclass "
        "(artifex_core.evaluation.Metric)"
    )


def _instantiate(
    name: str, entry: Entry, shared: Mapping[str, Any], own: Mapping[str, Any]
) -> Metric:
    target = entry.load()
    cls = _metric_class(name, target)
    if cls is None:
        if own:
            raise MetricOptionError(f"metric {name!r} takes no options (it is registered as an instance)")
        return target
    declared = metric_options(cls)
    unknown = sorted(set(own) - set(declared))
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise MetricOptionError(f"metric {name!r} has no option {unknown[0]!r} (its options: {accepted})")
    kwargs = {k: v for k, v in shared.items() if k in declared}
    kwargs.update(own)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise MetricOptionError(f"metric {name!r}: {exc}") from exc


def _check_shared(shared: Mapping[str, Any], registry: Registry) -> None:
    """A shared option must be declared by at least one registered metric class."""
    if not shared:
        return
    declared: set[str] = set()
    for e in registry.entries():
        try:
            target = e.load()
        except Exception:  # noqa: BLE001 - a broken metric is reported when it runs
            continue
        if isinstance(target, type) and issubclass(target, Metric):
            declared |= set(metric_options(target))
    unknown = sorted(set(shared) - declared)
    if unknown:
        raise MetricOptionError(f"no registered metric has the option {unknown[0]!r}")


def load_test_split(loaded: Any, *, limit: int | None = None, dataset: Dataset | None = None) -> EvalData:
    """The run's test split as its model saw it in training: same seeded split and binarization, ``float32``.

    Args:
        loaded: A :class:`~artifex_core.training.LoadedRun`.
        limit: Keep the first ``limit`` test examples.
        dataset: The run's data (default: loaded again from its train config).
    """
    from artifex_core.data._loading import load_dataset
    from artifex_core.data._pipeline import host_splits

    cfg = loaded.train_config
    ds = dataset or load_dataset(cfg.dataset, limit=cfg.limit, **cfg.dataset_kwargs)
    binarize = cfg.resolved_binarize(loaded.model_config)  # saved resolved: as trained
    _, x_test = host_splits(ds, binarize, cfg.binarize_seed)
    y_test = ds.test_labels
    if limit is not None:
        x_test = x_test[:limit]
        y_test = None if y_test is None else y_test[:limit]
    x = x_test.astype(np.float32) * np.float32(1 / 255) if x_test.dtype == np.uint8 else x_test.astype(np.float32)
    return EvalData(x, y_test, ds)


def _start(progress: Any, name: str, index: int, total: int) -> None:
    if progress is None:
        return
    if hasattr(progress, "start"):
        progress.start(name, index, total)
    else:
        progress(name)


def _advance(progress: Any, name: str) -> Any:
    """The :func:`~artifex_core.evaluation.report_progress` callback of metric ``name`` (None: not shown)."""
    if progress is None or not hasattr(progress, "advance"):
        return None
    return lambda done, total: progress.advance(name, done, total)


def _finish(progress: Any, name: str, seconds: float, ok: bool) -> None:
    if progress is not None and hasattr(progress, "finish"):
        progress.finish(name, seconds, ok)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text}"


def evaluate_run(
    loaded: Any,
    *,
    dataset: Dataset | None = None,
    metrics: Sequence[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    limit: int | None = None,
    seed: int = 0,
    registry: Registry | None = None,
    progress: EvaluationProgress | Callable[[str], None] | None = None,
    on_error: Callable[[str, BaseException], None] | None = None,
    **shared: Any,
) -> dict[str, Any]:
    """Every registered metric that applies to the run (or those named in ``metrics``); JSON-ready.

    Args:
        loaded: From :func:`artifex_core.training.load_run`.
        dataset: The data the run was trained on (default: loaded again from its train config).
        metrics: Metric names to run (default: all registered); a named metric that does not apply is
            reported as ``{"skipped": "does not apply to this run"}``.
        options: Per-metric options, ``{name: {option: value}}``.
        limit: Evaluate on the first ``limit`` test examples only.
        seed: Passed to every metric's ``compute``.
        registry: The metrics registry (default: the process's).
        progress: Told when each metric that applies starts and ends (an :class:`EvaluationProgress`); a
            plain callable is called with the metric's name before it runs.
        on_error: Called with ``(name, exception)`` when a metric raises.
        **shared: Options for every metric that declares them (``k=1000``, ``batch_size=...``).

    Returns:
        ``run_dir``, ``model``, ``dataset``, ``checkpoint_epoch``, ``test_examples``, ``metrics`` (name ->
        figures or ``{"error": ...}``), ``failed`` (names of metrics that raised) and ``time_s`` (per metric).

    Raises:
        UnknownNameError: An unknown metric name (with close matches).
        MetricOptionError: An option no metric declares, or options for a metric that is not run.
    """
    reg = _registry(registry)
    selected = select_metrics(metrics, registry=reg)
    by_entry = {id(e): key for key, e in selected.items()}
    own_options: dict[str, dict[str, Any]] = {key: {} for key in selected}
    for name, given in (options or {}).items():
        key = by_entry.get(id(reg.entry(name)))
        if key is None:
            raise MetricOptionError(f"options given for metric {name!r}, which is not run")
        own_options[key].update(given)
    _check_shared(shared, reg)
    results: dict[str, Any] = {}
    failed: list[str] = []

    def report_error(name: str, exc: Exception) -> None:
        results[name] = {"error": _one_line(exc)}
        failed.append(name)
        if on_error is not None:
            on_error(name, exc)

    instances: dict[str, Metric | Exception] = {}
    for name, entry in selected.items():  # option errors are usage errors, raised before anything runs
        try:
            instances[name] = _instantiate(name, entry, shared, own_options[name])
        except MetricOptionError:
            raise
        except Exception as exc:  # noqa: BLE001 - a metric that cannot even load is reported, the rest run
            instances[name] = exc
    data = load_test_split(loaded, limit=limit, dataset=dataset)
    mcfg = loaded.model_config
    report: dict[str, Any] = {
        "run_dir": str(loaded.run_dir.path),
        "model": mcfg.model,
        "dataset": data.dataset.name if data.dataset is not None else None,
        "checkpoint_epoch": loaded.epoch,
        "test_examples": int(len(data.x_test)),
    }
    times: dict[str, float] = {}
    explicit = bool(metrics)
    applies: dict[str, bool | Exception] = {}
    for name, metric in instances.items():  # first which apply, so progress can say "2 of 5"
        if isinstance(metric, Metric):
            try:
                loaded.model.eval()
                applies[name] = bool(metric.applies(loaded))
            except Exception as exc:  # noqa: BLE001 - reported below, in order
                applies[name] = exc
    total, index = sum(1 for v in applies.values() if v is True), 0
    for name, metric in instances.items():
        decision = applies.get(name)
        if isinstance(metric, Exception) or isinstance(decision, Exception):
            report_error(name, metric if isinstance(metric, Exception) else decision)  # type: ignore[arg-type]
            continue
        if not decision:
            if explicit:
                results[name] = {"skipped": "does not apply to this run"}
            continue
        index += 1
        _start(progress, name, index, total)
        start = time.perf_counter()
        ok = False
        try:
            loaded.model.eval()
            with progress_scope(_advance(progress, name)):  # a long metric reports how far it is
                figures = metric.compute(loaded, data, seed=seed)
            if not isinstance(figures, Mapping):
                raise TypeError(f"compute returned {type(figures).__name__}, not a dict")
            results[name] = dict(figures)
            ok = True
        except Exception as exc:  # noqa: BLE001 - reported; the other metrics still run
            report_error(name, exc)
        times[name] = round(time.perf_counter() - start, 3)
        _finish(progress, name, times[name], ok)
    report["metrics"] = results
    report["failed"] = failed
    report["time_s"] = times
    return report
