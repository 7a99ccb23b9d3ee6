"""The 0.1 import paths: one finder maps each old module name to its private module, with a warning."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import artifex_core
import artifex_plugins  # noqa: F401  (registers the built-in plugin's old names)
from artifex_core._compat import MOVED, register_moved

ROOT = Path(__file__).resolve().parents[2]


def _file_of(module: str) -> Path | None:
    stem = ROOT.joinpath(*module.split("."))
    for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_old_name_maps_to_a_private_module_of_its_public_package(old: str) -> None:
    new, public = MOVED[old]
    assert _file_of(old) is None, f"{old} is still a module file: the alias would never be used"
    assert _file_of(new) is not None, f"{old} maps to {new}, which does not exist"
    assert new.rpartition(".")[2].startswith("_") and new.rpartition(".")[0] == public
    assert old.rpartition(".")[0] == public and old.rpartition(".")[2] == new.rpartition(".")[2].removeprefix("_")


def test_an_old_import_warns_naming_the_public_package_at_the_import_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "artifex_core.training.run_dir", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from artifex_core.training.run_dir import RunDir  # type: ignore[import-not-found]
    from artifex_core.training import RunDir as public

    assert RunDir is public
    assert [w.category for w in caught] == [DeprecationWarning]
    assert str(caught[0].message) == (
        "artifex_core.training.run_dir is deprecated and will be removed in artifex 0.3; "
        "import from artifex_core.training instead"
    )
    assert caught[0].filename == __file__  # the line that imports, not importlib's frames
    assert sys.modules["artifex_core.training.run_dir"] is sys.modules["artifex_core.training._run_dir"]


def test_the_old_module_is_the_private_module_itself_so_patching_it_patches_the_code() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = importlib.import_module("artifex_core.registry")
    assert old is importlib.import_module("artifex_core._registry")
    assert old.Registry is artifex_core.Registry and old.models is artifex_core.models


def test_an_old_module_named_like_an_export_leaves_the_export_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    import artifex_core.cli

    for old in ("artifex_core.host", "artifex_core.cli.app"):
        monkeypatch.delitem(sys.modules, old, raising=False)
    exported_host, exported_app = artifex_core.host, artifex_core.cli.app
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_host = importlib.import_module("artifex_core.host")
        old_app = importlib.import_module("artifex_core.cli.app")
    assert old_host.host is exported_host and old_app.app is exported_app  # the old modules, with their names
    assert artifex_core.host is exported_host and artifex_core.cli.app is exported_app  # the exports unchanged
    assert callable(artifex_core.host) and artifex_core.host() is old_host.host()


def test_names_that_are_not_old_modules_are_left_to_the_normal_import() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("artifex_core.no_such_module")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("artifex_core.training.run_dirs")  # a prefix of a moved name is not moved


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin", "PYTHONWARNINGS": "always"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_old_light_imports_import_no_jax_and_old_plugin_paths_work_without_importing_the_core_first() -> None:
    code = (
        "import sys\n"
        "import artifex_plugins.params as p\n"  # the finder comes with artifex_plugins too
        "from artifex_core.training.trainer import Trainer\n"  # lazy in training: a JAX module, imported here
        "print(p.VAEParams.__module__)\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["artifex_plugins._params"]
    assert "artifex_plugins.params is deprecated" in result.stderr and "import from artifex_plugins instead" in result.stderr
    assert "artifex_core.training.trainer is deprecated" in result.stderr
    light = _python(
        "import sys\nfrom artifex_core.config import ModelConfig\nimport artifex_core.training.run_dir\n"
        "import artifex_plugins.data.mnist\n"
        "print('JAX' if any(m in sys.modules for m in ('jax', 'flax')) else 'NOJAX')"
    )
    assert light.returncode == 0, light.stderr
    assert light.stdout.strip() == "NOJAX"
    assert light.stderr.count("DeprecationWarning") == 3


def test_introspection_reads_a_target_under_its_old_module_name_without_importing_it() -> None:
    from artifex_core._introspect import module_constant

    assert module_constant("artifex_plugins.vae.activations:ACTIVATION_NAMES") == module_constant(
        "artifex_plugins.vae._activations:ACTIVATION_NAMES"
    )
    assert "relu" in module_constant("artifex_plugins.vae.activations:ACTIVATION_NAMES")


def test_the_built_in_plugin_registers_its_own_old_names() -> None:
    from artifex_plugins._moved import MOVED as plugin_moved

    assert plugin_moved and all(old.startswith("artifex_plugins.") for old in plugin_moved)
    assert all(MOVED[old] == new for old, new in plugin_moved.items())


def test_an_old_name_claimed_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="artifex_core.registry"):
        register_moved({"artifex_core.registry": ("artifex_core._host", "artifex_core")})
    assert MOVED["artifex_core.registry"] == ("artifex_core._registry", "artifex_core")
