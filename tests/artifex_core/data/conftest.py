"""Fixtures for the data tests: a private cache folder and the built-in dataset names registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from artifex_core.data import BUILTIN_DATASETS
from artifex_core.registry import datasets
from artifex_core.testing import isolated_registries


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.getbasetemp() / "artifex-cache"
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(path))
    return path


@pytest.fixture
def builtin_datasets() -> Iterator[None]:
    """The registry with the built-in dataset names (registered here if the built-in plugin does not yet)."""
    with isolated_registries():
        for name, (target, summary) in BUILTIN_DATASETS.items():
            if name not in datasets:
                datasets.register(name, target, summary=summary)
        yield
