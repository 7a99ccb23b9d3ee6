"""`artifex sample --sampler NAME`: the default, the gmm sampler's fit cached in the run folder, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from artifex_core.cli import app
from artifex_core.testing import isolated_registries
from artifex_core.training import load_run, resolve_sampler

runner = CliRunner()
TINY = ["--set", "hidden_dims=[16]", "--set", "latent_dim=2", "--set", "warmup_steps=2", "--batch-size", "32"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 160)
    x = (rng.random((160, 6, 6)) < 0.1).astype(np.uint8) * 255
    x[np.arange(160), 2 * y] = 255
    npz = tmp_path_factory.mktemp("data") / "bars.npz"
    np.savez(npz, x=x, y=y)
    out = tmp_path_factory.mktemp("runs") / "vae"
    mp = pytest.MonkeyPatch()
    mp.setenv("ARTIFEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "artifex-cache"))
    try:
        result = runner.invoke(app, ["train", "--dataset", str(npz), "--epochs", "2", "--out", str(out), "--quiet", *TINY])
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    return out


def _sample(out: Path, *args: str) -> dict:
    result = runner.invoke(app, ["sample", str(out), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_default_sampler_is_the_prior_and_fits_nothing(trained: Path) -> None:
    info = _sample(trained, "-n", "4")
    assert info["sampler"] == "builtin:prior" and info["sampler_state"] is None and not info["fitted"]
    assert not (trained / "samplers").exists()


def test_the_prior_sampler_is_todays_model_sample(trained: Path, tmp_path: Path) -> None:
    from artifex_core.training._pictures import sample_images

    _sample(trained, "-n", "4", "--sampler", "prior", "--seed", "3", "-o", str(tmp_path / "p.png"))
    loaded = load_run(trained)
    expected = sample_images(loaded.model, 4, seed=3)
    from artifex_core.training._sampling import draw_samples

    np.testing.assert_array_equal(draw_samples(loaded, 4, sampler="prior", seed=3).images, expected)


def test_gmm_writes_the_images_and_caches_its_fit_until_the_checkpoint_changes(trained: Path, tmp_path: Path) -> None:
    first = _sample(trained, "-n", "6", "--nrow", "3", "--sampler", "gmm", "--sampler-option", "n_components=2",
                    "-o", str(tmp_path / "g.png"))
    assert first["sampler"] == "builtin:gmm" and first["fitted"] and first["sampler_options"]["n_components"] == 2
    assert Image.open(tmp_path / "g.png").size == (3 * 8 + 2, 2 * 8 + 2)
    state = Path(first["sampler_state"])
    assert state.parent == trained / "samplers" and state.is_file()
    with np.load(state) as data:
        assert data["means"].shape == (2, 2) and data["covariances"].shape == (2, 2, 2)
        assert data["weights"].sum() == pytest.approx(1.0)
    mtime = os.stat(state).st_mtime_ns
    again = _sample(trained, "-n", "6", "--sampler", "gmm", "--sampler-option", "n_components=2", "--seed", "1")
    assert not again["fitted"] and os.stat(state).st_mtime_ns == mtime  # read back, not refitted
    other = _sample(trained, "-n", "6", "--sampler", "gmm", "--sampler-option", "n_components=3")
    assert other["fitted"]  # other options: another key
    older = _sample(trained, "-n", "6", "--sampler", "gmm", "--sampler-option", "n_components=3", "--checkpoint", "1")
    assert older["fitted"] and older["checkpoint_epoch"] == 1  # another checkpoint: fitted again
    back = _sample(trained, "-n", "6", "--sampler", "gmm", "--sampler-option", "n_components=3")
    assert back["fitted"]
    forced = _sample(trained, "-n", "6", "--sampler", "gmm", "--sampler-option", "n_components=3", "--refit")
    assert forced["fitted"]


def test_a_damaged_cache_is_refitted(trained: Path) -> None:
    first = _sample(trained, "-n", "2", "--sampler", "gmm", "--sampler-option", "n_components=1")
    Path(first["sampler_state"]).write_bytes(b"not an npz")
    assert _sample(trained, "-n", "2", "--sampler", "gmm", "--sampler-option", "n_components=1")["fitted"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sampler", "gmn"], "unknown sampler 'gmn'; did you mean 'gmm'?"),
        (["--sampler", "gmm", "--sampler-option", "components=3"],
         "sampler 'gmm' has no option 'components' (allowed: batch_size, covariance_type, max_iter, n_components)"),
        (["--sampler", "gmm", "--sampler-option", "n_components=0"], "n_components must be an integer >= 1, got 0"),
        (["--sampler", "gmm", "--sampler-option", "covariance_type=round"], "covariance_type must be one of full"),
        (["--sampler-option", "n_components"], "--sampler-option must be KEY=VALUE"),
    ],
)
def test_sampler_usage_errors_exit_2(trained: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["sample", str(trained), *args])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_a_model_may_declare_its_default_sampler(trained: Path) -> None:
    loaded = load_run(trained)
    with isolated_registries() as host:
        host.registries.models.entry("vae").meta["default_sampler"] = "gmm"
        try:
            assert resolve_sampler(None, "vae", loaded.model).qualified_id == "builtin:gmm"
        finally:
            del host.registries.models.entry("vae").meta["default_sampler"]
    assert resolve_sampler(None, "vae", loaded.model).qualified_id == "builtin:prior"

    class Declares:
        default_sampler = "gmm"

    assert resolve_sampler(None, "no-such-model", Declares()).name == "gmm"


def test_list_and_info_show_the_samplers() -> None:
    listing = json.loads(runner.invoke(app, ["list", "samplers", "--json"]).stdout)
    assert {"prior", "gmm"} <= {e["name"] for e in listing["samplers"]}
    info = json.loads(runner.invoke(app, ["info", "gmm", "--json"]).stdout)
    params = {p["name"]: p["default"] for p in info["parameters"]}
    assert info["kind"] == "samplers" and params["n_components"] in (10, "10")


def test_sample_module_imports_no_jax() -> None:
    code = "import sys, artifex_core.cli._sample_cmds; print('jax' in sys.modules, 'flax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
