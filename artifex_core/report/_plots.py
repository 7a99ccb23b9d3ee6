"""The report's plots, drawn with matplotlib (imported lazily, Agg-free: a bare ``Figure``) as SVG text.

- :func:`loss_curves_svg`: one run's train and test loss terms against steps, lr on a second axis (the
  report's stand-in when the run folder has no ``curves.png``);
- :func:`overlay_svg`: several runs' test loss in one plot (``artifex compare -o``).

Example:
    >>> svg = overlay_svg({"a": ([1, 2], [3.0, 2.0]), "b": ([1, 2], [3.5, 2.5])}, ylabel="test loss")
    >>> svg.startswith("<?xml") and "</svg>" in svg
    True
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["loss_curves_svg", "overlay_svg"]


def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if isinstance(y, (int, float)) and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def loss_curves_svg(records: Sequence[Mapping[str, Any]], *, title: str = "") -> str:
    """Train and test loss terms of ``metrics.jsonl`` records against their step; lr on the right axis.

    Args:
        records: One dict per epoch (``step``, ``train``, ``test``, ``lr``).
        title: The plot's title.

    Returns:
        SVG text (a plot saying "no epochs yet" for no records).
    """
    fig = _figure()
    ax = fig.add_subplot()
    steps = [float(r.get("step", r.get("epoch", i + 1))) for i, r in enumerate(records)]
    for split, style in (("train", "-"), ("test", "--")):
        terms = sorted({k for r in records for k in (r.get(split) or {}) if k != "grad_norm"})
        for term in terms:
            xs, ys = _finite(steps, [(r.get(split) or {}).get(term, math.nan) for r in records])
            if xs:
                ax.plot(xs, ys, style, marker="o", markersize=3, label=f"{split} {term}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per example)")
    if not records:
        ax.text(0.5, 0.5, "no epochs yet", ha="center", va="center", transform=ax.transAxes)
    lr_x, lr_y = _finite(steps, [r.get("lr", math.nan) for r in records])
    if lr_x:
        lr_ax = ax.twinx()
        lr_ax.plot(lr_x, lr_y, ":", color="grey", label="lr")
        lr_ax.set_ylabel("learning rate")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return _svg(fig)


def overlay_svg(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, ylabel: str, title: str = "") -> str:
    """Several runs' curves in one plot: ``{label: (steps, values)}``.

    Returns:
        SVG text.
    """
    fig = _figure()
    ax = fig.add_subplot()
    for label, (xs, ys) in curves.items():
        fx, fy = _finite(list(xs), list(ys))
        if fx:
            ax.plot(fx, fy, marker="o", markersize=3, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no test losses recorded", ha="center", va="center", transform=ax.transAxes)
    if title:
        ax.set_title(title)
    return _svg(fig)
