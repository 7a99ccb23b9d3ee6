"""``artifex list``, ``info`` and ``plugins``: what is installed, without importing JAX."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from artifex_core.cli._errors import UsageError, cli_errors, out_console
from artifex_core._entry import Entry
from artifex_core._introspect import describe_parameters, docstring_from_source
from artifex_core._lookup_errors import UnknownNameError
from artifex_core._plugins import plugin_statuses
from artifex_core._registry import registries, resolve_kind
from artifex_core._source_fields import fields_from_source

__all__ = ["register"]

_GLOB = set("*?[")


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def list_cmd(
    kind: Annotated[
        str | None,
        typer.Argument(help="encoders, decoders, losses, models, datasets, recipes, metrics, loggers or samplers (default: all)."),
    ] = None,
    pattern: Annotated[str, typer.Argument(help="Glob over names, e.g. 'beta*'.")] = "*",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """List registered names, their aliases, plugin and summary."""
    with cli_errors():
        if kind is not None and (_GLOB & set(kind)) and pattern == "*":
            pattern, kind = kind, None
        try:
            chosen = None if kind is None else resolve_kind(kind)
        except UnknownNameError as exc:
            raise UsageError(str(exc)) from None
        kinds = {k: r for k, r in registries.by_kind().items() if chosen is None or r is chosen}
        listing = {name: [e.as_dict() for e in reg.entries(pattern)] for name, reg in kinds.items()}
        if as_json:
            _echo_json(listing)
            return
        if not any(listing.values()):
            what = next(iter(listing)) if len(listing) == 1 else "entries"
            out_console.print(f"no {what} registered" + ("" if pattern == "*" else f" matching {pattern!r}"))
            return
        table = Table(title=None, box=None, header_style="bold")
        for col in ("kind", "name", "aliases", "plugin", "summary"):
            table.add_column(col)
        for name, rows in listing.items():
            for row in rows:
                table.add_row(name, row["name"], ", ".join(row["aliases"]), row["plugin"], row["summary"])
        out_console.print(table)


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    text = str(annotation).replace("typing.", "")
    return name if name and "[" not in text and "|" not in text else text


def _describe(kind: str, entry: Entry) -> dict[str, Any]:
    """What ``info`` shows of one entry, read from source (no import), so the same in every process.

    Types come from the annotations in the source text, descriptions from the Google-style ``Args:``
    section of the class or ``__init__`` docstring, and for a model's params class from its pydantic
    ``Field(description=...)`` (or its ``Attributes:`` section).
    """
    info: dict[str, Any] = {"kind": kind, **entry.as_dict()}
    doc = docstring_from_source(entry.target_path)
    if doc is None and not isinstance(entry.target, str):
        doc = entry.target.__doc__
    info["doc"] = (doc or "").strip()
    if kind == "models" and entry.params is not None:
        fields = fields_from_source(entry.params) if isinstance(entry.params, str) else None
        if fields is None:  # not readable from source (a class object, a generated model): ask pydantic
            params_cls = entry.load_params()
            where = f"{params_cls.__module__}:{params_cls.__qualname__}"
            static = {f["name"]: f for f in fields_from_source(where) or []}
            fields = [
                {
                    "name": name,
                    "type": static.get(name, {}).get("type") or _type_name(f.annotation),
                    "default": f.get_default(call_default_factory=True),
                    "description": f.description or static.get(name, {}).get("description", ""),
                }
                for name, f in params_cls.model_fields.items()
            ]
        info["parameters"] = [{k: f[k] for k in ("name", "type", "default", "description")} for f in fields]
    else:
        params = describe_parameters(entry.target_path)
        if params is not None:
            info["parameters"] = [
                {"name": p["name"], "type": p["type"], "default": p["default"], "description": p["description"]}
                for p in params
            ]
    return info


def info_cmd(
    name: Annotated[str, typer.Argument(help="A registered name, alias or qualified id (plugin:name).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Show what a registered name is, its plugin and its parameters with defaults."""
    with cli_errors():
        kind_hint, _, short = name.partition("/") if "/" in name else ("", "", name)
        found: list[dict[str, Any]] = []
        candidates: list[str] = []
        for kind, reg in registries.by_kind().items():
            if kind_hint and resolve_kind(kind_hint) is not reg:
                continue
            try:
                found.append(_describe(kind, reg.entry(short)))
            except UnknownNameError as exc:
                candidates.extend(exc.matches)
        if not found:
            raise UnknownNameError("name", short, sorted(set(candidates) | {n for r in registries.by_kind().values() for n in r.names()}))
        if as_json:
            _echo_json(found if len(found) > 1 else found[0])
            return
        for item in found:
            singular = registries.by_kind()[item["kind"]].kind
            out_console.print(f"[bold]{item['name']}[/] ({singular}, {item['qualified_id']})")
            out_console.print(f"  plugin: {item['plugin']} ({item['dist']} {item['version']})")
            out_console.print(f"  target: {item['target']}")
            if item["aliases"]:
                out_console.print(f"  aliases: {', '.join(item['aliases'])}")
            if item["doc"]:
                out_console.print(f"  {item['doc'].splitlines()[0]}")
            if item.get("parameters"):
                table = Table(box=None, header_style="bold", padding=(0, 2))
                for col in ("parameter", "type", "default", "description"):
                    table.add_column(col)
                for p in item["parameters"]:
                    default = repr(p["default"]) if item["kind"] == "models" else str(p["default"] or "required")
                    table.add_row(p["name"], str(p["type"] or "-"), default, p["description"])
                out_console.print(table)


def plugins_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False) -> None:
    """Show every installed plugin: distribution, version, status, what it registered and its commands."""
    with cli_errors():
        statuses = [s.as_dict() for s in plugin_statuses()]
        if as_json:
            _echo_json(statuses)
            return
        table = Table(box=None, header_style="bold")
        for col in ("plugin", "distribution", "version", "status", "registered / error"):
            table.add_column(col)
        for s in statuses:
            colour = {"ok": "green", "failed": "red"}.get(s["status"], "yellow")
            detail = s["error"] if s["status"] == "failed" else ", ".join(
                [*s["registered"], *(f"command {c}" for c in s["commands"])]
            )
            if s["notes"]:
                detail = "; ".join(filter(None, [detail, *s["notes"]]))
            table.add_row(s["name"], s["dist"] or "-", s["version"] or "-", f"[{colour}]{s['status']}[/]", detail)
        out_console.print(table)


def register(app: typer.Typer) -> None:
    """Add the registry commands to ``app``."""
    app.command("list")(list_cmd)
    app.command("info")(info_cmd)
    app.command("plugins")(plugins_cmd)
