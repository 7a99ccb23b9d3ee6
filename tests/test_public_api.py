"""The curated surface: implementation modules are private, each package's ``__init__`` is its public API."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PUBLIC_MODULES = {
    "artifex_core/testing.py",  # a pytest plugin for plugin authors
    "artifex_plugins/plugin.py",  # the entry point
    # the spec's modules (artifex.generative_models.models.vae.*)
    *(f"artifex_plugins/vae/{m}.py" for m in ("base", "beta_vae", "conditional", "vq_vae", "encoders", "decoders")),
}

PACKAGES = [
    "artifex_core",
    "artifex_core.cli",
    "artifex_core.data",
    "artifex_core.evaluation",
    "artifex_core.report",
    "artifex_core.training",
    "artifex_plugins",
    "artifex_plugins.data",
    "artifex_plugins.loggers",
    "artifex_plugins.metrics",
    "artifex_plugins.vae",
]


def test_every_other_module_is_private() -> None:
    public = sorted(
        str(p.relative_to(ROOT))
        for top in ("artifex_core", "artifex_plugins")
        for p in (ROOT / top).rglob("*.py")
        if p.name not in {"__init__.py", "__main__.py"} and not any(part.startswith("_") for part in p.relative_to(ROOT).parts[1:])
    )
    assert public == sorted(PUBLIC_MODULES)


def test_the_packages_are_every_public_folder() -> None:
    folders = sorted(
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("artifex_core", "artifex_plugins")
        for p in (ROOT / top).rglob("__init__.py")
        if not any(part.startswith("_") for part in p.parent.relative_to(ROOT).parts)
    )
    assert folders == sorted(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_and_is_defined_inside_the_package(package: str) -> None:
    module = importlib.import_module(package)
    names = module.__all__
    assert len(names) == len(set(names)), "a name listed twice in __all__"
    for name in names:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.split(".")[0] == package.split(".")[0], f"{package}.{name}: {value.__module__}"


@pytest.mark.parametrize(
    "path",
    [
        "artifex_core:hookimpl",
        "artifex_core:ModelConfig",
        "artifex_core:create_model",
        "artifex_core.data:Dataset",
        "artifex_core.training:Callback",
        "artifex_core.training:load_run",
        "artifex_plugins.vae:VQVAE",
        "artifex_core.cli:main",
    ],
)
def test_the_plugin_contract_paths_are_kept(path: str) -> None:
    module, _, name = path.partition(":")
    assert getattr(importlib.import_module(module), name) is not None
    assert hasattr(importlib.import_module("artifex_core.data").Dataset, "from_arrays")
