"""Fixtures for the trainer tests: the toy VAE module on the path and a private cache folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.getbasetemp() / "artifex-cache"
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(path))
    return path


@pytest.fixture(autouse=True, scope="session")
def _compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A session-private persistent XLA cache: repeated identical fits skip compilation."""
    from artifex_core.training import enable_compile_cache

    return enable_compile_cache(tmp_path_factory.mktemp("jax-cache"))
