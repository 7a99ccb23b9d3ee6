"""``artifex compare``: several runs side by side: the config fields that differ and their metrics.

A :class:`Comparison` holds, for each run (in the order given), the differing fields of its model and train
config and its figures: the final epoch's, the best epoch's (lowest test loss) and, when the run has an
``evaluation.json``, the evaluation's (``evaluation.elbo.neg_elbo``, ...). :meth:`Comparison.to_json` is what
``--json`` prints; :func:`render_compare` is the ``-o compare.html`` page, with the runs' test-loss curves
overlaid in one plot (matplotlib, inline). No JAX here.

Example:
    >>> # comparison = compare_runs(["runs/a", "runs/b"]); comparison.config_diff["model.latent_dim"]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artifex_core.report._html import data_uri, figure, page, table
from artifex_core.report._summary import RunSummary, flatten, read_run

__all__ = ["Comparison", "compare_runs", "run_labels", "render_compare"]


def _same_number(value: Any) -> Any:
    """Integral floats as ints, so ``2`` and ``2.0`` are one value (JSON does not tell them apart either)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _same_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same_number(v) for v in value]
    return value


def _key(value: Any) -> str:
    return json.dumps(_same_number(value), sort_keys=True, default=str)


def run_labels(paths: Sequence[Path]) -> list[str]:
    """A label per run: its folder name, or the path as given when two runs share a name.

    Example:
        >>> run_labels([Path("a/x"), Path("b/y")]), run_labels([Path("a/x"), Path("b/x")])
        (['x', 'y'], ['a/x', 'b/x'])
    """
    names = [p.name or str(p) for p in paths]
    if len(set(names)) == len(names):
        return names
    return [str(p) for p in paths]


def _figures(summary: RunSummary) -> dict[str, Any]:
    out: dict[str, Any] = {}
    final, best = summary.final, summary.best
    out["final.epoch"] = final.get("epoch")
    for split in ("test", "train"):
        for term, value in (final.get(split) or {}).items():
            out[f"final.{split}.{term}"] = value
    out["best.epoch"] = best.get("epoch")
    for term, value in (best.get("test") or {}).items():
        out[f"best.test.{term}"] = value
    evaluation = summary.evaluation
    if evaluation is not None:
        out["evaluation.checkpoint_epoch"] = evaluation.get("checkpoint_epoch")
        for name, figures in (evaluation.get("metrics") or {}).items():
            if isinstance(figures, dict):
                for key, value in flatten(figures).items():
                    out[f"evaluation.{name}.{key}"] = value
    return out


@dataclass(frozen=True)
class Comparison:
    """Runs side by side.

    Attributes:
        runs: The runs, in the order given.
        labels: One label per run (its folder name; the path when names collide).
        config_diff: ``{field: [value per run]}`` for the model and train fields whose values differ.
        figures: ``{figure: [value per run]}`` (``None`` where a run lacks it), final, best then evaluation.
    """

    runs: list[RunSummary]
    labels: list[str]
    config_diff: dict[str, list[Any]]
    figures: dict[str, list[Any]]

    def to_json(self) -> dict[str, Any]:
        """``{"runs": [{"label", "run_dir", "model"}], "config_diff": ..., "figures": ...}``."""
        return {
            "runs": [
                {"label": label, "run_dir": str(run.path), "model": run.model}
                for label, run in zip(self.labels, self.runs, strict=True)
            ],
            "config_diff": self.config_diff,
            "figures": self.figures,
        }


def _loggers_listed(train: dict[str, Any]) -> dict[str, Any]:
    """``train`` with its ``loggers`` mapping as one value: the logger names, each with its options if it has any.

    So that a run with a logger and one without differ in one row, ``train.loggers``.

    Example:
        >>> _loggers_listed({"lr": 0.1, "loggers": {"builtin:tensorboard": {}, "mlflow:mlflow": {"tracking_uri": "x"}}})
        {'lr': 0.1, 'loggers': ['builtin:tensorboard', 'mlflow:mlflow(tracking_uri=x)']}
    """
    loggers = train.get("loggers")
    if not isinstance(loggers, dict):
        return train
    listed = [
        name + (f"({', '.join(f'{k}={v}' for k, v in sorted(opts.items()))})" if isinstance(opts, dict) and opts else "")
        for name, opts in sorted(loggers.items())
    ]
    return {**train, "loggers": listed}


def compare_runs(paths: Sequence[str | Path]) -> Comparison:
    """Read the run folders ``paths`` and line them up.

    Raises:
        RunDirError: A path that is not a run folder (the message names it).
        ValueError: No paths.
    """
    if not paths:
        raise ValueError("compare needs at least one run folder")
    runs = [read_run(p) for p in paths]
    configs = [flatten({"model": r.config["model"], "train": _loggers_listed(r.config["train"])}) for r in runs]
    fields = list(dict.fromkeys(k for c in configs for k in c))
    missing = object()
    diff: dict[str, list[Any]] = {}
    for name in fields:
        values = [c.get(name, missing) for c in configs]
        if len({_key(v) if v is not missing else "\0missing" for v in values}) > 1:
            diff[name] = [None if v is missing else v for v in values]
    per_run = [_figures(r) for r in runs]
    names = list(dict.fromkeys(k for f in per_run for k in f))
    order = [n for n in names if n.startswith("final.")] + [n for n in names if n.startswith("best.")]
    order += [n for n in names if n not in order]
    figures = {n: [f.get(n) for f in per_run] for n in order}
    return Comparison(runs, run_labels([r.path for r in runs]), diff, figures)


def render_compare(comparison: Comparison) -> str:
    """The comparison page: config differences, figures and the overlaid test-loss curves, as HTML text."""
    from artifex_core.report._plots import overlay_svg

    labels = comparison.labels
    runs_rows = [(label, str(run.path), run.model) for label, run in zip(labels, comparison.runs, strict=True)]
    curves = {label: run.test_curve("loss") for label, run in zip(labels, comparison.runs, strict=True)}
    svg = overlay_svg(curves, ylabel="test loss (nats per example)", title="test loss")
    diff_rows = [(name, *values) for name, values in comparison.config_diff.items()]
    config_html = (
        table(diff_rows, header=("field", *labels), table_id="config-diff")
        if diff_rows
        else '<p class="sub">The runs\' model and train configs are the same.</p>'
    )
    body = "\n".join(
        [
            "<h2>Runs</h2>", table(runs_rows, header=("run", "folder", "model"), table_id="runs"),
            "<h2>Test loss</h2>",
            figure(data_uri(svg.encode("utf-8"), "image/svg+xml"), "test loss of each run against steps",
                   css="plot", alt="test loss curves"),
            "<h2>Config fields that differ</h2>", config_html,
            "<h2>Metrics</h2>",
            table([(name, *values) for name, values in comparison.figures.items()], header=("figure", *labels),
                  table_id="figures", numeric=True),
        ]
    )
    return page(f"artifex compare: {len(labels)} runs", ", ".join(labels), body)
