"""The two plugin packages under tests/plugins/ (staged for the session by tests/conftest.py, never installed).

A good plugin is listed, built by name and resolvable by qualified id, and adds a command; the broken
package's two plugins (one fails on import, one in its commands hook) are reported while everything else
works; the strict and disable switches behave as documented.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

ARTIFEX = str(Path(sys.executable).with_name("artifex"))


def _installed(dist: str) -> bool:
    try:
        distribution(dist)
    except PackageNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not (_installed("artifex-goodplugin") and _installed("artifex-brokenplugin")),
    reason="the test plugins are staged by tests/conftest.py: run the tests from the repository root",
)


def _artifex(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ARTIFEX_")}
    full.update(env)
    return subprocess.run([ARTIFEX, *args], capture_output=True, text=True, env=full, timeout=300)


def test_the_test_plugins_are_staged_for_the_session_never_installed() -> None:
    """Issue #12: the README's test command installed the broken plugin, and every later call warned."""
    for dist in ("artifex-goodplugin", "artifex-brokenplugin"):
        found = Path(str(distribution(dist).locate_file(""))).resolve()
        assert found.name.startswith("artifex-test-plugins-"), f"{dist} comes from {found}, not the staged folder"
        assert str(found) in os.environ["PYTHONPATH"].split(os.pathsep)  # artifex subprocesses see it too
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    commands = [line for line in readme.splitlines() if "pip install" in line and "pytest" in line]
    assert commands == ['pip install -e ".[dev]" && pip install ./plugins/artifex-tcvae && python -m pytest']
    assert "tests/plugins" not in "".join(line for line in (root / ".ci" / "run").read_text().splitlines()
                                          if "pip install" in line)


def test_good_plugin_listed_with_its_plugin() -> None:
    result = _artifex("list", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    tiny = next(e for e in data["encoders"] if e["name"] == "tiny")
    assert (tiny["plugin"], tiny["dist"], tiny["version"]) == ("good", "artifex-goodplugin", "1.2.3")
    assert any(e["qualified_id"] == "good:tiny_vae" for e in data["models"])


def test_broken_plugin_reported_while_list_still_works() -> None:
    result = _artifex("list")
    assert result.returncode == 0 and "vae" in result.stdout
    assert "plugin 'broken' (artifex-brokenplugin 0.0.1) failed to load" in result.stderr
    assert result.stderr.count("failed to load") == 1  # warned once
    plugins = {p["name"]: p for p in json.loads(_artifex("plugins", "--json").stdout)}
    assert plugins["broken"]["status"] == "failed"
    assert plugins["broken"]["error"] == "RuntimeError: artifex_brokenplugin is broken on purpose"
    assert plugins["good"]["status"] == "ok" and plugins["builtin"]["status"] == "ok"
    assert sorted(plugins["good"]["registered"]) == [
        "datasets:blobs", "encoders:tiny", "loggers:good_log", "metrics:good_recon", "models:tiny_vae", "recipes:tiny_vae"
    ]


def test_good_plugin_command_is_in_help_and_runs() -> None:
    help_text = _artifex("--help", ARTIFEX_DISABLE_PLUGINS="artifex-brokenplugin")
    assert help_text.returncode == 0 and "good-hello" in help_text.stdout and help_text.stderr == ""
    result = _artifex("good-hello", "--name", "tests", ARTIFEX_DISABLE_PLUGINS="artifex-brokenplugin")
    assert result.returncode == 0 and result.stdout == "hello tests from artifex-goodplugin\n"
    good = next(p for p in json.loads(_artifex("plugins", "--json").stdout) if p["name"] == "good")
    assert good["commands"] == ["good-hello"] and good["notes"] == []


def test_plugin_failing_in_its_commands_hook_is_reported_and_rolled_back() -> None:
    result = _artifex("--help", ARTIFEX_DISABLE_PLUGINS="broken")
    assert result.returncode == 0 and "good-hello" in result.stdout and "list" in result.stdout
    assert "broken-hello" not in result.stdout  # the command it added before raising is removed
    assert result.stderr.count("plugin 'broken_commands' (artifex-brokenplugin 0.0.1) failed to add its commands") == 1
    assert result.stderr.count("warning:") == 1
    plugins = {p["name"]: p for p in json.loads(_artifex("plugins", "--json").stdout)}
    failed = plugins["broken_commands"]
    assert failed["status"] == "failed" and failed["registered"] == [] and failed["commands"] == []
    assert failed["error"] == "RuntimeError: artifex_brokencommands fails in its commands hook on purpose"
    listing = json.loads(_artifex("list", "losses", "--json").stdout)["losses"]
    assert {e["name"] for e in listing} >= {"mse", "bce"} and "broken_commands_loss" not in {e["name"] for e in listing}
    assert _artifex("broken-hello").returncode == 2  # no such command
    table = _artifex("plugins").stdout
    assert "broken_commands" in table and "failed" in table and "good-hello" in table


def test_strict_switch_fails_the_cli() -> None:
    result = _artifex("list", ARTIFEX_STRICT_PLUGINS="1")
    assert result.returncode == 1
    assert "plugin 'broken'" in result.stderr and "broken on purpose" in result.stderr
    assert "Traceback" not in result.stderr
    result = _artifex("list", ARTIFEX_STRICT_PLUGINS="1", ARTIFEX_DISABLE_PLUGINS="broken")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "plugin 'broken_commands'" in result.stderr and "commands hook on purpose" in result.stderr


def test_disable_switch_silences_the_broken_plugin() -> None:
    result = _artifex("list", "--json", ARTIFEX_DISABLE_PLUGINS="broken,broken_commands", ARTIFEX_STRICT_PLUGINS="1")
    assert result.returncode == 0 and result.stderr == ""
    plugins = {p["name"]: p["status"] for p in json.loads(_artifex("plugins", "--json", ARTIFEX_DISABLE_PLUGINS="artifex-brokenplugin").stdout)}
    assert plugins["broken"] == plugins["broken_commands"] == "disabled"


def test_plugin_model_built_by_name_through_create_model() -> None:
    from flax import nnx

    from artifex_core import ModelConfig, create_model
    from artifex_core.registry import models

    cfg = ModelConfig(model="tiny_vae", encoder="tiny", input_dim=(6,), latent_dim=2, hidden_dims=(4,),
                      parameters={"free_bits": 0.5})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert type(model).__name__ == "TinyVAE" and model.free_bits == 0.5
    assert type(model.encoder).__name__ == "TinyEncoder"
    assert models.get("good:tiny_vae") is type(model)
    cfg_q = ModelConfig(model="good:tiny_vae", encoder="good:tiny", input_dim=(6,), latent_dim=2, hidden_dims=(4,))
    assert type(create_model(cfg_q, rngs=nnx.Rngs(0))).__name__ == "TinyVAE"


def test_plugin_model_built_by_cli_and_params_validated() -> None:
    result = _artifex("build", "tiny_vae", "--set", "encoder=tiny", "--set", "input_dim=[6]", "--set", "latent_dim=2",
                      "--json", ARTIFEX_DISABLE_PLUGINS="broken")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["model"] == "TinyVAE"
    assert summary["parameters"]["total"] == 6 * 4 + 4 + summary["parameters"]["per_module"]["decoder"]
    bad = _artifex("build", "tiny_vae", "--set", "parameters.free_bitz=1", ARTIFEX_DISABLE_PLUGINS="broken")
    assert bad.returncode == 2 and "did you mean 'free_bits'" in bad.stderr
