"""``artifex report``: one self-contained HTML page for a run folder.

The page needs nothing but itself: styles inline, every image a ``data:`` URI, no script, and a
Content-Security-Policy that forbids loading anything else, so it opens from disk (or an e-mail) the same
everywhere. It shows the overview, the final and best epochs' metrics, the loss curves (``curves.png``, or an
SVG drawn here with matplotlib when the folder has none), the sample, reconstruction and traversal grids,
the evaluation (``evaluation.json``) when there is one, the config, and the plugin and versions that made the
run. Every text is HTML-escaped; every number cell carries its exact value in ``data-value``.

Example:
    >>> # path = write_report("runs/demo")            # runs/demo/report.html
    >>> cell("<b>", 0.5)
    '<tr><th>&lt;b&gt;</th><td data-value="0.5">0.5</td></tr>'
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from artifex_core.report._summary import CURVES, RunSummary, flatten, read_run

__all__ = [
    "CSP",
    "REPORT_FILE",
    "cell",
    "data_uri",
    "figure",
    "fmt",
    "page",
    "render_report",
    "table",
    "write_report",
]

REPORT_FILE = "report.html"
"""The page ``artifex report`` writes in the run folder by default."""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page's Content-Security-Policy: images from ``data:`` URIs and inline styles only, nothing fetched."""

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em;
  border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { padding: 0.2em 0.8em; text-align: left;
  border-bottom: 1px solid #eee; vertical-align: top; } td[data-value] { font-variant-numeric: tabular-nums; }
table.num td[data-value] { text-align: right; } thead th { border-bottom: 2px solid #ccc; }
.columns { display: flex; flex-wrap: wrap; gap: 0 3em; align-items: flex-start; }
figure { display: inline-block; margin: 0.5em 1.5em 0.5em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; image-rendering: pixelated; }
figure img.plot { image-rendering: auto; width: 42em; }
figcaption { color: #555; font-size: 0.9em; } .missing { color: #a33; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A value as a table shows it: floats to 6 significant digits, lists as JSON, ``None`` as ``-``.

    Example:
        >>> fmt(544.0797729492188), fmt(True), fmt([16, 8]), fmt(None)
        ('544.08', 'true', '[16, 8]', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _td(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td data-value="{_e(repr(value))}">{_e(fmt(value))}</td>'
    return f"<td>{_e(fmt(value))}</td>"


def cell(label: str, *values: Any) -> str:
    """One table row: an escaped header cell and a cell per value (numbers carry ``data-value``)."""
    return f"<tr><th>{_e(label)}</th>{''.join(_td(v) for v in values)}</tr>"


def table(
    rows: Iterable[Sequence[Any]], *, header: Sequence[str] = (), table_id: str = "", numeric: bool = False
) -> str:
    """An HTML table of ``(label, value, ...)`` rows, with an optional header row and ``id``.

    ``numeric`` right-aligns the number cells (tables of figures; key-value tables keep them left).
    """
    ident = f' id="{_e(table_id)}"' if table_id else ""
    ident += ' class="num"' if numeric else ""
    head = f"<thead><tr>{''.join(f'<th>{_e(h)}</th>' for h in header)}</tr></thead>" if header else ""
    body = "".join(cell(str(r[0]), *r[1:]) for r in rows)
    return f"<table{ident}>{head}<tbody>{body}</tbody></table>"


def data_uri(data: bytes, mime: str) -> str:
    """``data:MIME;base64,...`` for ``data``.

    Example:
        >>> data_uri(b"hi", "text/plain")
        'data:text/plain;base64,aGk='
    """
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure(uri: str, caption: str, *, css: str = "", alt: str = "", width: int | None = None) -> str:
    """An ``<img>`` of ``uri`` with an escaped caption (shown ``width`` CSS pixels wide when given)."""
    cls = f' class="{_e(css)}"' if css else ""
    size = f' width="{int(width)}"' if width else ""
    return (
        f'<figure><img{cls}{size} src="{_e(uri)}" alt="{_e(alt or caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _display_width(data: bytes) -> int | None:
    """A small PNG's width scaled up towards 380 CSS pixels (at most twice; pixel grids are tiny), or ``None``."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    width = int.from_bytes(data[16:20], "big")
    return min(2 * width, max(width, 380))


def page(title: str, subtitle: str, body: str) -> str:
    """A whole self-contained HTML document (inline style, the :data:`CSP`)."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body><h1>{_e(title)}</h1>"
        f'<p class="sub">{_e(subtitle)}</p>\n{body}\n</body></html>\n'
    )


def _terms(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flatten(dict(record)).items() if k not in ("epoch",)}


def _metrics_table(summary: RunSummary) -> str:
    final, best = summary.final, summary.best
    if not final:
        return "<p class=\"missing\">No epoch has finished yet (metrics.jsonl is empty).</p>"
    final_terms, best_terms = _terms(final), _terms(best)
    order = [k for k in final_terms if k.startswith("test.")] + [k for k in final_terms if k.startswith("train.")]
    order += [k for k in final_terms if k not in order]
    order += [k for k in best_terms if k not in order]
    rows = [("epoch", final.get("epoch"), best.get("epoch"))]
    rows += [(k, final_terms.get(k), best_terms.get(k)) for k in order]
    return table(rows, header=("metric", f"final (epoch {final.get('epoch')})", f"best (epoch {best.get('epoch')})"),
                 table_id="metrics", numeric=True)


def _evaluation_section(evaluation: Mapping[str, Any] | None) -> str:
    if evaluation is None:
        return '<p class="sub">No evaluation yet: <code>artifex evaluate RUN</code> writes evaluation.json.</p>'
    rows: list[tuple[Any, ...]] = []
    for name, figures in (evaluation.get("metrics") or {}).items():
        if not isinstance(figures, Mapping):
            rows.append((name, figures))
            continue
        for key, value in flatten(dict(figures)).items():
            rows.append((f"{name}.{key}", value))
    about = [
        ("checkpoint epoch", evaluation.get("checkpoint_epoch")),
        ("test examples", evaluation.get("test_examples")),
        ("written", evaluation.get("written")),
        *((f"argument {k}", v) for k, v in (evaluation.get("arguments") or {}).items()),
    ]
    return (
        '<div class="columns">'
        + table(rows, header=("figure", "value"), table_id="evaluation", numeric=True)
        + table(about, header=("evaluated", ""), table_id="evaluation-about")
        + "</div>"
    )


def _provenance_rows(summary: RunSummary, evaluation: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    info = summary.provenance
    rows: list[tuple[Any, ...]] = [("artifex-vae (config.json)", info.get("artifex_version"))]
    plugin = info.get("plugin")
    if isinstance(plugin, Mapping):
        rows += [("model", plugin.get("model")), ("plugin", plugin.get("name")),
                 ("plugin distribution", f"{plugin.get('dist') or '-'} {plugin.get('version') or ''}".strip())]
    else:
        rows.append(("model", summary.model))
    if info.get("python"):
        rows.append(("python", info["python"]))
    rows += [(f"package {k}", v) for k, v in (info.get("packages") or {}).items()]
    if not info.get("packages"):
        rows.append(("packages", "not recorded (a run written before config.json held them)"))
    if evaluation is not None and isinstance(evaluation.get("provenance"), Mapping):
        packages = evaluation["provenance"].get("packages") or {}
        rows += [(f"evaluated with {k}", v) for k, v in packages.items()]
    return rows


def _picture(summary: RunSummary, name: str, caption: str) -> str:
    path = summary.pictures.get(name)
    if path is None:
        return f'<p class="missing">{_e(name)}: not in the run folder.</p>'
    data = path.read_bytes()
    return figure(data_uri(data, "image/png"), caption, alt=name, width=_display_width(data))


_CAPTIONS = {
    "samples.png": "samples (samples.png)",
    "reconstructions.png": "test images and their reconstructions, alternating rows (reconstructions.png)",
    "traversals.png": "latent traversals: one row per latent dimension (traversals.png)",
    "codebook_usage.png": "codebook usage (codebook_usage.png)",
}


def _pictures(summary: RunSummary) -> str:
    names = ["samples.png", "reconstructions.png"]
    names += ["codebook_usage.png"] if "codebook_usage.png" in summary.pictures else []
    names += ["traversals.png"] if "traversals.png" in summary.pictures or len(names) == 2 else []
    return "\n".join(_picture(summary, name, _CAPTIONS[name]) for name in names)


def _curves(summary: RunSummary) -> str:
    path = summary.pictures.get(CURVES)
    if path is not None:
        return figure(data_uri(path.read_bytes(), "image/png"), "loss curves (curves.png)", css="plot", alt=CURVES)
    from artifex_core.report._plots import loss_curves_svg

    svg = loss_curves_svg(summary.records, title=f"{summary.model}: loss terms")
    return figure(data_uri(svg.encode("utf-8"), "image/svg+xml"), "loss curves (drawn from metrics.jsonl)",
                  css="plot", alt="loss curves")


def render_report(summary: RunSummary) -> str:
    """The report page of ``summary`` as HTML text."""
    cfg, final, best = summary.config, summary.final, summary.best
    described = cfg.get("dataset")
    dataset: dict[str, Any] = dict(described) if isinstance(described, Mapping) else {}
    overview = [
        ("run folder", str(summary.path)),
        ("model", summary.model),
        ("dataset", dataset.get("name") or cfg["train"].get("dataset")),
        ("epochs finished", final.get("epoch", 0)),
        ("epochs planned", cfg["train"].get("epochs")),
        ("steps", final.get("step")),
        ("best epoch", best.get("epoch")),
        ("best test loss", (best.get("test") or {}).get("loss")),
        ("training time s", final.get("elapsed_s")),
        ("config written", cfg.get("written")),
    ]
    config_rows = [(k, v) for k, v in flatten({"model": cfg["model"], "train": cfg["train"]}).items()]
    if dataset:
        config_rows += [(f"dataset.{k}", v) for k, v in flatten(dict(dataset)).items()]
    evaluation = summary.evaluation
    body = "\n".join(
        [
            '<div class="columns"><div>', "<h2>Overview</h2>", table(overview, table_id="overview"), "</div><div>",
            "<h2>Final and best metrics</h2>", _metrics_table(summary), "</div></div>",
            "<h2>Loss curves</h2>", _curves(summary),
            "<h2>Pictures</h2>",
            _pictures(summary),
            "<h2>Evaluation</h2>", _evaluation_section(evaluation),
            "<h2>Config</h2>", table(config_rows, header=("field", "value"), table_id="config"),
            "<h2>Made by</h2>", table(_provenance_rows(summary, evaluation), table_id="provenance"),
        ]
    )
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return page(f"artifex run {summary.name}", f"{summary.model} · report written {stamp}", body)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report page of run folder ``run_dir`` to ``out`` (default ``RUN/report.html``), atomically.

    Raises:
        RunDirError: ``run_dir`` is not a run folder (the message names it).
        OSError: ``out`` cannot be written.
    """
    from artifex_core._atomic import atomic_write

    summary = read_run(run_dir)
    target = Path(out) if out is not None else summary.path / REPORT_FILE
    return atomic_write(target, render_report(summary))
