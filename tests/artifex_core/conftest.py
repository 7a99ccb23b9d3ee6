"""Shared by the report, compare and evaluate tests: two tiny real runs (one evaluated) and a headless Chromium.

``tiny_runs`` trains two MLP VAEs (latent_dim 2 and 3, hidden [16]) for 2 epochs on 256 packaged MNIST
images through the CLI, once per session, and evaluates the first (``evaluation.json``). Tests that change a
run folder copy it first. ``browser`` is Debian's chromium driven by selenium through Debian's
chromium-driver (the same package version, so they always match); it skips only when no chromium is found.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TINY_TRAIN = ["--set", "hidden_dims=[16]", "--epochs", "2", "--limit", "256", "--batch-size", "64",
              "--set", "warmup_steps=2"]


@dataclass(frozen=True)
class TinyRuns:
    """Two trained run folders: ``a`` (latent_dim 2, evaluated) and ``b`` (latent_dim 3)."""

    a: Path
    b: Path
    evaluation: dict[str, Any]


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> TinyRuns:
    from typer.testing import CliRunner

    from artifex_core.cli import app

    runner = CliRunner()
    root = tmp_path_factory.mktemp("tiny-runs")
    mp = pytest.MonkeyPatch()
    mp.setenv("ARTIFEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "artifex-cache"))
    try:
        for name, latent in (("a", 2), ("b", 3)):
            result = runner.invoke(
                app, ["train", "--out", str(root / name), "--set", f"latent_dim={latent}", "--json", *TINY_TRAIN]
            )
            assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["evaluate", str(root / "a"), "--json", "--k", "20", "--limit", "64", "-q"])
        assert result.exit_code == 0, result.output
    finally:
        mp.undo()
    return TinyRuns(root / "a", root / "b", json.loads(result.stdout))


def _find_chromium() -> tuple[str, str] | None:
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver) that records the page's console."""
    found = _find_chromium()
    if found is None:
        pytest.skip("no chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True)
class LoadedPage:
    """What the browser saw: every image, the console, the tables' cells, the text."""

    images: list[dict[str, Any]]
    console: list[dict[str, Any]]
    tables: dict[str, list[list[dict[str, Any]]]]
    text: str
    screenshot: Path


def load_page(driver: Any, path: Path, screenshot: Path, *, full_page: bool = True) -> LoadedPage:
    """Open ``path`` from disk (``file://``), wait for every image, read it back and save a screenshot."""
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(path.resolve().as_uri())
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null))).then(() => done(true));"
    )
    images = driver.execute_script(
        "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,"
        " width: i.naturalWidth, height: i.naturalHeight, scheme: i.src.split(':')[0]}))"
    )
    tables = driver.execute_script(
        "const out = {}; for (const t of document.querySelectorAll('table[id]')) {"
        " out[t.id] = Array.from(t.querySelectorAll('tbody tr')).map(r => Array.from(r.children).map("
        "  c => ({text: c.textContent, value: c.dataset.value === undefined ? null : c.dataset.value})));"
        "} return out;"
    )
    text = driver.execute_script("return document.body.innerText")
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(int(height) + 40, 8000))
    driver.save_screenshot(str(screenshot))
    driver.set_window_size(1280, 1600)
    return LoadedPage(images, driver.get_log("browser"), tables, text, screenshot)


@pytest.fixture
def open_page(browser: Any) -> Any:
    """``open_page(path, screenshot)`` -> :class:`LoadedPage`."""
    return lambda path, screenshot, **kw: load_page(browser, path, screenshot, **kw)
