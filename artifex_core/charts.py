"""Charts drawn with matplotlib: bar charts and a run's loss curves, written as PNG (no JAX).

matplotlib is imported on the first chart, never at import time, so the CLI stays fast. Figures are built
on the Agg canvas directly (``matplotlib.figure.Figure`` + ``FigureCanvasAgg``): no pyplot, no global
backend state, nothing shown on screen, safe in any thread.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> fig = bar_chart([3, 0, 1], sort=True)
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [3.0, 1.0, 0.0]
    >>> save_figure(fig, Path(tempfile.mkdtemp()) / "bars.png").suffix
    '.png'
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artifex_core.atomic import atomic_write

if TYPE_CHECKING:  # pragma: no cover - matplotlib is imported lazily
    from matplotlib.figure import Figure

__all__ = ["CURVE_SKIP", "bar_chart", "curve_terms", "curves_figure", "new_figure", "save_curves", "save_figure"]

CURVE_SKIP = frozenset({"grad_norm"})
"""Train metrics that are not loss terms, left out of the loss curves."""


def new_figure(width: float = 6.4, height: float = 4.0, dpi: int = 100) -> Figure:
    """A matplotlib figure ``width`` x ``height`` inches on the Agg canvas (imports matplotlib).

    Example:
        >>> new_figure(2, 1, dpi=50).canvas.get_width_height()
        (100, 50)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Render ``fig`` as PNG and replace ``path`` atomically (parent folders are created); returns the path.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> p = save_figure(new_figure(2, 1, dpi=50), Path(tempfile.mkdtemp()) / "empty.png")
        >>> Image.open(p).size
        (100, 50)
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, metadata={"Software": None})
    return atomic_write(path, buffer.getvalue())


def bar_chart(
    values: Any,
    *,
    sort: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    color: str = "tab:blue",
    width: float = 6.4,
    height: float = 3.2,
    dpi: int = 100,
) -> Figure:
    """A figure with one bar per value (``sort``: from largest to smallest).

    Raises:
        ValueError: On empty, negative or non-finite values.

    Example:
        >>> fig = bar_chart([1, 2], title="usage")
        >>> [float(p.get_height()) for p in fig.axes[0].patches], fig.axes[0].get_title()
        ([1.0, 2.0], 'usage')
    """
    v = np.asarray(values, np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("values must be a non-empty sequence of finite, non-negative numbers")
    if sort:
        v = np.sort(v)[::-1]
    fig = new_figure(width, height, dpi)
    ax = fig.add_subplot()
    ax.bar(range(v.size), v.tolist(), width=1.0 if v.size > 64 else 0.8, color=color)
    ax.set_xlim(-0.5 - 0.1, v.size - 0.5 + 0.1)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def curve_terms(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The loss terms of ``metrics.jsonl`` rows (``train`` and ``test`` keys, ``loss`` first, then sorted;
    :data:`CURVE_SKIP` left out).

    Example:
        >>> curve_terms([{"train": {"kl_loss": 1, "loss": 2, "grad_norm": 3}, "test": {"loss": 2, "bits": 1}}])
        ['loss', 'bits', 'kl_loss']
    """
    names = {k for r in records for split in ("train", "test") for k in (r.get(split) or {})} - CURVE_SKIP
    return sorted(names, key=lambda k: (k != "loss", k))


def _points(records: Sequence[Mapping[str, Any]], split: str, term: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in records:
        value = (r.get(split) or {}).get(term)
        if isinstance(value, (int, float)) and math.isfinite(value) and "step" in r:
            xs.append(float(r["step"]))
            ys.append(float(value))
    return xs, ys


def curves_figure(records: Sequence[Mapping[str, Any]], *, columns: int = 3, dpi: int = 100) -> Figure:
    """The loss curves of a run from its ``metrics.jsonl`` rows: one panel per loss term, train and test
    against the global step, the learning rate on a second axis of the first panel.

    Lines are labelled ``train``, ``test`` and ``lr``; each panel is titled with its term.

    Raises:
        ValueError: No row has a loss term.

    Example:
        >>> rows = [{"epoch": e, "step": 10 * e, "train": {"loss": 3 - e, "kl_loss": 1.0},
        ...          "test": {"loss": 3.5 - e}, "lr": 1e-3} for e in (1, 2)]
        >>> fig = curves_figure(rows)
        >>> [ax.get_title() for ax in fig.axes if ax.get_title()]
        ['loss', 'kl_loss']
        >>> {line.get_label(): line.get_ydata().tolist() for line in fig.axes[0].get_lines()}
        {'train': [2.0, 1.0], 'test': [2.5, 1.5]}
    """
    terms = curve_terms(records)
    if not terms:
        raise ValueError("no loss term to plot: the rows have no 'train' or 'test' values")
    cols = max(1, min(columns, len(terms)))
    rows = -(-len(terms) // cols)
    fig = new_figure(4.2 * cols, 3.0 * rows, dpi)
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(len(terms))]
    for ax, term in zip(axes, terms, strict=True):
        for split, style in (("train", "-"), ("test", "--")):
            xs, ys = _points(records, split, term)
            if xs:
                ax.plot(xs, ys, style, marker="o", markersize=3, label=split)
        ax.set_title(term)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
    lr = [(float(r["step"]), float(r["lr"])) for r in records if isinstance(r.get("lr"), (int, float)) and "step" in r]
    handles, labels = axes[0].get_legend_handles_labels()
    if lr:
        twin = axes[0].twinx()
        (line,) = twin.plot([s for s, _ in lr], [v for _, v in lr], ":", color="tab:gray", label="lr")
        twin.set_ylabel("lr")
        twin.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        handles, labels = [*handles, line], [*labels, "lr"]
    axes[0].legend(handles, labels, loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def save_curves(records: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write :func:`curves_figure` of ``records`` as a PNG at ``path``; returns the path.

    Example:
        >>> import tempfile
        >>> rows = [{"epoch": 1, "step": 5, "train": {"loss": 1.0}, "test": {"loss": 1.2}, "lr": 1e-3}]
        >>> save_curves(rows, Path(tempfile.mkdtemp()) / "curves.png").name
        'curves.png'
    """
    return save_figure(curves_figure(records), path)
