"""What :func:`artifex_core.create_model` needs beyond each config field being valid: the checks behind
:meth:`ModelConfig.check_buildable <artifex_core.ModelConfig.check_buildable>`. Imports no JAX.

Each check returns problems ``(field path, value, message)``; the config turns them into one validation error.

Example:
    >>> from artifex_core import ModelConfig
    >>> build_problems(ModelConfig(input_dim=(12,), latent_dim=2, hidden_dims=(4,)))
    []
"""

from __future__ import annotations

import difflib
import inspect
import math
from typing import TYPE_CHECKING, Any

from artifex_core._config_values import INT32_MAX, path_text, show
from artifex_core._entry import Entry
from artifex_core._introspect import class_constant, defines_method, keyword_parameters
from artifex_core._registry import CONDITIONAL_WRAPPER, decoders, encoders, models

if TYPE_CHECKING:  # pragma: no cover
    from artifex_core._config import ModelConfig

__all__ = ["build_problems"]


_Problem = tuple[tuple[str | int, ...], Any, str]

# What the factory passes itself (artifex_core._factory.create_encoder_unified / create_decoder_unified):
# keyword -> the config field it comes from (None: not a config field).
_FACTORY_KWARGS = {
    "encoder": {"hidden_dims": "hidden_dims", "latent_dim": "latent_dim", "activation": "activation",
                "input_dim": "input_dim", "rngs": None},
    "decoder": {"hidden_dims": "decoder_hidden_dims", "output_dim": "output_dim", "latent_dim": "latent_dim",
                "activation": "activation", "rngs": None},
}


def _class_name(entry: Entry) -> str:
    return entry.target_path.rpartition(":")[2] or entry.name


def _defines(entry: Entry, method: str) -> bool:
    """Whether the entry's class defines ``method`` (read from source when the entry is not imported)."""
    if isinstance(entry.target, str):
        return bool(defines_method(entry.target, method))
    return hasattr(entry.target, method)


def _keywords(entry: Entry, method: str) -> tuple[dict[str, bool], bool] | None:
    """``({name: required}, takes **kwargs)`` of the entry's ``method`` (``__init__``: its constructor).

    None when unknown: the source cannot be found, or the object has no readable signature.
    """
    target = entry.target
    if isinstance(target, str):
        found = keyword_parameters(target, method)
        if found is None:
            return None
        params, var_keyword = found
        return {p["name"]: bool(p["required"]) for p in params}, var_keyword
    func = target if method == "__init__" and not inspect.isclass(target) else getattr(target, method, None)
    if func is None:
        return None
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    signature = list(sig.parameters.values())
    if inspect.isclass(target) and signature and signature[0].kind is not inspect.Parameter.VAR_POSITIONAL:
        signature = signature[1:]  # self
    names = {
        p.name: p.default is inspect.Parameter.empty
        for p in signature
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return names, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature)


def _kwargs_problems(kind: str, name: str, entry: Entry, given: dict[str, Any]) -> list[_Problem]:
    field = f"{kind}_kwargs"
    factory = _FACTORY_KWARGS[kind]
    problems: list[_Problem] = []
    for key, value in given.items():
        if key in factory:
            source = factory[key]
            why = f"set by the config field {source!r}" if source else "passed by the factory itself"
            problems.append(((field, key), value, f"{field}.{key}: {why}; remove it from {field} (got {show(value)})"))
    found = _keywords(entry, "__init__")
    if found is None:
        return problems
    accepted, var_keyword = found
    owner = f"{kind} {name!r} ({_class_name(entry)})"
    allowed = [n for n in accepted if n not in factory]
    if not var_keyword:
        for key, value in given.items():
            if key in factory or key in accepted:
                continue
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                (
                    (field, key),
                    value,
                    f"{field}.{key}: unknown argument for {owner} (got {show(value)}){hint} "
                    f"(allowed: {', '.join(allowed) or 'none'})",
                )
            )
    for key, required in accepted.items():
        if required and key not in factory and key not in given:
            problems.append(((field, key), None, f"{field}.{key}: required by {owner}; set {field}.{key}"))
    return problems


def _ndim_problems(kind: str, name: str, entry: Entry, field: str, shape: tuple[int, ...]) -> list[_Problem]:
    attr = "input_ndim" if kind == "encoder" else "output_ndim"
    if isinstance(entry.target, str):
        ndim = class_constant(entry.target, attr)
    else:
        ndim = getattr(entry.target, attr, None)
    if not isinstance(ndim, int) or isinstance(ndim, bool) or len(shape) == ndim:
        return []
    return [
        (
            (field,),
            list(shape),
            f"{field}: {kind} {name!r} ({_class_name(entry)}) needs {ndim} axes, got {list(shape)} "
            f"({len(shape)} axes)" + ("; images are (H, W, C)" if ndim == 3 else ""),
        )
    ]


def _takes_condition(entry: Entry) -> bool:
    found = _keywords(entry, "__call__")
    return found is None or found[1] or "y" in found[0]


def _int_range_problems(value: Any, path: tuple[str | int, ...]) -> list[_Problem]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        if abs(value) > INT32_MAX:
            return [
                (
                    path,
                    value,
                    f"{path_text(path)}: {show(value)} is out of range "
                    f"(at most {INT32_MAX} in magnitude: JAX computes with 32-bit integers)",
                )
            ]
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _int_range_problems(v, (*path, k))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _int_range_problems(v, (*path, i))]
    return []


def build_problems(cfg: ModelConfig) -> list[_Problem]:
    """Everything :meth:`ModelConfig.check_buildable` reports, in field order."""
    problems: list[_Problem] = []
    derived = {"output_dim": cfg.input_dim, "decoder_hidden_dims": tuple(reversed(cfg.hidden_dims))}
    for field in ("input_dim", "output_dim", "latent_dim", "hidden_dims", "decoder_hidden_dims", "num_classes",
                  "embed_dim", "encoder_kwargs", "decoder_kwargs", "parameters"):
        value = getattr(cfg, field)
        if field not in derived or value != derived[field]:  # a derived value's own field is reported
            problems += _int_range_problems(value, (field,))
    model = models.entry(cfg.model)
    custom_model = _defines(model, "from_config")
    parts = (("encoder", encoders, cfg.encoder, cfg.encoder_kwargs, "input_dim", cfg.input_dim),
             ("decoder", decoders, cfg.decoder, cfg.decoder_kwargs, "output_dim", cfg.output_dim or cfg.input_dim))
    for kind, registry, name, given, dims_field, shape in parts:
        entry = registry.entry(name)
        if entry.meta.get("wrapper"):
            bases = ", ".join(n for n in registry.names() if not registry.entry(n).meta.get("wrapper"))
            problems.append(
                ((kind,), name, f"{kind}: {name!r} is a wrapper; pick a base {kind} ({bases}) and set conditional=true")
            )
            continue
        if custom_model or _defines(entry, "from_config"):
            continue
        problems += _kwargs_problems(kind, name, entry, given)
        problems += _ndim_problems(kind, name, entry, dims_field, tuple(shape))
        if cfg.conditional and CONDITIONAL_WRAPPER not in registry:
            problems.append(
                (
                    ("conditional",),
                    True,
                    f"conditional: no {CONDITIONAL_WRAPPER!r} {kind} wrapper is registered to condition it",
                )
            )
    output = tuple(cfg.output_dim or cfg.input_dim)
    if model.meta.get("reconstructs_input", True) and math.prod(output) != math.prod(cfg.input_dim):
        problems.append(
            (
                ("output_dim",),
                list(output),
                f"output_dim: {list(output)} has {math.prod(output)} values but input_dim {list(cfg.input_dim)} "
                f"has {math.prod(cfg.input_dim)}; model {cfg.model!r} reconstructs its input, so they need as many "
                "values (drop output_dim to use input_dim)",
            )
        )
    if cfg.conditional and not _takes_condition(model):
        takers = [n for n in models.names() if _takes_condition(models.entry(n))]
        hint = f"use a conditional model ({', '.join(takers)}) or " if takers else ""
        problems.append(
            (
                ("conditional",),
                True,
                f"conditional: model {cfg.model!r} ({_class_name(model)}) takes no condition (its __call__ has "
                f"no 'y'); {hint}set conditional=false",
            )
        )
    return problems
