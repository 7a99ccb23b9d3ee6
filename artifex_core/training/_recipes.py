"""Recipes: what ``artifex train`` (or ``artifex train --model NAME``) trains, looked up in the ``recipes`` registry.

A recipe's target is a mapping ``{"model": {ModelConfig fields}, "train": {TrainConfig fields}}`` (either part
may be left out) or a zero-argument callable returning one. ``--model NAME`` uses the recipe registered as
NAME (a short name, an alias or a qualified id ``plugin:name``; for a model alias, the recipe of the model's
own name), and otherwise the *fallback*: the recipe registered as :data:`DEFAULT` with ``model=NAME`` and
without its ``parameters``, so that the model keeps its own parameter defaults. Without a ``default``
recipe the fallback is ``{"model": NAME}`` and the configs' own defaults. A config file or ``--set``
overrides any field. No JAX.

Example:
    >>> from artifex_core.testing import isolated_registries
    >>> from artifex_core._registry import recipes
    >>> with isolated_registries():
    ...     _ = recipes.register("tiny", {"model": {"model": "vae", "latent_dim": 2}, "train": {"epochs": 1}})
    ...     recipe("tiny")
    ({'model': 'vae', 'latent_dim': 2}, {'epochs': 1})
    >>> with isolated_registries():
    ...     _ = recipes.register("bad", lambda: ["model", "train"])
    ...     recipe("bad")
    Traceback (most recent call last):
    ...
    artifex_core.training._recipes.RecipeError: recipe 'local:bad' (returned by its callable) must be a mapping {"model": {...}, "train": {...}}, not list
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from artifex_core._entry import Entry
from artifex_core._lookup_errors import UnknownNameError
from artifex_core._name_registry import Registry

__all__ = ["DEFAULT", "PARTS", "Recipe", "RecipeError", "RecipeTarget", "default_recipe", "load_recipe", "recipe"]

DEFAULT = "default"
"""The name of the recipe a plain ``artifex train`` uses, and the base of the fallback for other models."""
PARTS = ("model", "train")
"""The keys a recipe may hold."""

Recipe: TypeAlias = Mapping[str, Mapping[str, Any]]
"""``{"model": {ModelConfig fields}, "train": {TrainConfig fields}}``."""
RecipeTarget: TypeAlias = Recipe | Callable[[], Recipe]
"""What a plugin registers in the ``recipes`` registry."""


class RecipeError(ValueError):
    """A registered recipe that is not a ``{"model": {...}, "train": {...}}`` mapping (or callable returning one)."""


def _registry(within: Registry | None) -> Registry:
    if within is not None:
        return within
    from artifex_core._registry import recipes

    return recipes


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def load_recipe(entry: Entry) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fresh copies of the ``(model, train)`` parts of a ``recipes`` entry, its shape checked.

    Raises:
        RecipeError: The target (or what its callable returns) is not a mapping of ``model`` and ``train``
            mappings with string keys, or its callable raised.
    """
    where = f"recipe {entry.qualified_id!r}"
    try:
        target = entry.load()
    except Exception as exc:  # noqa: BLE001 - a lazy target that does not import
        raise RecipeError(f"{where}: {entry.target_path} cannot be imported ({_one_line(exc)})") from None
    if callable(target) and not isinstance(target, Mapping):
        try:
            target = target()
        except Exception as exc:  # noqa: BLE001 - the plugin's callable, reported in one line
            raise RecipeError(f"{where}: calling {entry.target_path} failed ({_one_line(exc)})") from None
        where += " (returned by its callable)"
    if not isinstance(target, Mapping):
        raise RecipeError(f'{where} must be a mapping {{"model": {{...}}, "train": {{...}}}}, not {type(target).__name__}')
    unknown = [str(k) for k in target if k not in PARTS]
    if unknown:
        raise RecipeError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(PARTS)})")
    parts: list[dict[str, Any]] = []
    for key in PARTS:
        part = target.get(key, {})
        if part is None:
            part = {}
        if not isinstance(part, Mapping) or not all(isinstance(k, str) for k in part):
            raise RecipeError(
                f"{where}: {key!r} must be a mapping of {'ModelConfig' if key == 'model' else 'TrainConfig'} "
                f"fields, not {type(part).__name__}"
            )
        parts.append(copy.deepcopy(dict(part)))
    return parts[0], parts[1]


def _find(registry: Registry, name: str) -> Entry | None:
    """The recipe registered as ``name``, else the recipe of the model's primary name (an alias was given)."""
    try:
        return registry.entry(name)
    except UnknownNameError:
        pass
    from artifex_core._registry import models

    try:
        model = models.entry(name)
    except LookupError:
        return None
    for key in (model.qualified_id, model.name):
        try:
            return registry.entry(key)
        except UnknownNameError:
            continue
    return None


def default_recipe(*, within: Registry | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(model, train)`` parts of the recipe registered as :data:`DEFAULT` (``({}, {})`` without one)."""
    registry = _registry(within)
    try:
        entry = registry.entry(DEFAULT)
    except UnknownNameError:
        return {}, {}
    return load_recipe(entry)


def recipe(model: str | None = None, *, within: Registry | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fresh ``(model, train)`` dicts of what to train for ``model`` (None: the :data:`DEFAULT` recipe).

    Args:
        model: A model name, alias or qualified id; the recipe registered under it is used, otherwise the
            fallback (the default recipe's fields for ``model``, without its ``parameters``).
        within: The recipes registry (default: the process-wide one).

    Raises:
        RecipeError: The recipe found has the wrong shape.
        AmbiguousNameError: Several plugins registered a recipe of that name.
    """
    registry = _registry(within)
    if model is None:
        return default_recipe(within=registry)
    entry = _find(registry, model)
    if entry is not None:
        model_part, train_part = load_recipe(entry)
        model_part.setdefault("model", model)
        return model_part, train_part
    model_part, train_part = default_recipe(within=registry)
    model_part.pop("parameters", None)  # the model's own defaults: a fallback never injects a parameter
    model_part["model"] = model
    return model_part, train_part
