"""Fixtures for the data tests: a private cache folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path_factory.getbasetemp() / "artifex-cache"
    monkeypatch.setenv("ARTIFEX_CACHE_DIR", str(path))
    return path
