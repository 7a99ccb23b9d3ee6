"""Checkpoints of an older state layout restore under the current names (``legacy_state_paths``).

The core mechanism on a toy model, and real artifex 0.1 VQ-VAE run folders (``data/vqvae*-0.1``, made by
``data/make_legacy_vq_runs.py`` with the code of commit 48fb7b0, which kept the codebook on the model):
``load_run``, ``artifex evaluate``, ``artifex sample`` give the numbers the old code gave, and ``--resume``
continues them in the current layout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from PIL import Image
from typer.testing import CliRunner

from artifex_core.cli import app
from artifex_core.training import legacy_state_paths, load_run
from artifex_core.training import CheckpointError, Checkpointer
from artifex_core.training._manifest import MANIFEST
from artifex_core.training._state_paths import keystr_names, path_names, rename_paths
from artifex_plugins.data import load_mnist

DATA = Path(__file__).parent / "data"
LEGACY_RUNS = ["vqvae-0.1", "vqvae-ema-0.1"]
runner = CliRunner()


# -- the mechanism, model-agnostic -------------------------------------------------------------------
class OldToy(nnx.Module):
    def __init__(self) -> None:
        self.w = nnx.Param(jnp.arange(6.0).reshape(2, 3))
        self.b = nnx.Param(jnp.ones(3))


class Inner(nnx.Module):
    legacy_state_paths: ClassVar[dict[tuple[str, ...], tuple[str, ...]]] = {("weight",): ("w",)}

    def __init__(self) -> None:
        self.w = nnx.Param(jnp.zeros((2, 3)))


class NewToy(nnx.Module):
    """``w`` moved into ``inner`` (declared here), where it was called ``weight`` once (declared by Inner)."""

    legacy_state_paths: ClassVar[dict[tuple[str, ...], tuple[str, ...]]] = {("w",): ("inner", "w")}

    def __init__(self) -> None:
        self.inner = Inner()
        self.b = nnx.Param(jnp.zeros(3))


def train_state(model: nnx.Module) -> dict[str, Any]:
    params = nnx.state(model, nnx.Param)
    import optax

    return {"params": params, "opt_state": optax.adam(1e-3).init(params)}


@pytest.fixture
def old_folder(tmp_path: Path) -> Path:
    state = train_state(OldToy())
    state["opt_state"][0].mu["w"][...] = jnp.full((2, 3), 7.0)
    with Checkpointer(tmp_path / "ckpt") as ckpt:
        ckpt.save(1, state, {"epoch": 1})
    return tmp_path / "ckpt"


def test_renames_are_collected_from_every_module_under_its_path() -> None:
    assert legacy_state_paths(NewToy()) == {("w",): ("inner", "w"), ("inner", "weight"): ("inner", "w")}
    assert legacy_state_paths(OldToy()) == {}


def test_the_longest_prefix_renames_under_each_root_only() -> None:
    renames = {("enc",): ("encoder",), ("enc", "head"): ("encoder", "mean_head")}
    got = rename_paths(
        [("params", "enc", "head", "kernel"), ("params", "enc", "l0"), ("meta", "enc"), ("params", "dec")],
        renames,
        roots=[("params",)],
    )
    assert got == {
        ("params", "enc", "head", "kernel"): ("params", "encoder", "mean_head", "kernel"),
        ("params", "enc", "l0"): ("params", "encoder", "l0"),
        ("meta", "enc"): ("meta", "enc"),  # not a model-state subtree
        ("params", "dec"): ("params", "dec"),
    }


def test_manifest_keys_parse_to_the_names_orbax_uses() -> None:
    state = train_state(NewToy())
    for path, _ in jax.tree_util.tree_flatten_with_path(state)[0]:
        assert keystr_names(jax.tree_util.keystr(path)) == path_names(path)
    assert keystr_names("not a key path") is None


def test_an_old_layout_restores_only_with_its_renames(old_folder: Path) -> None:
    template = train_state(NewToy())
    with Checkpointer(old_folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match=r"does not fit this model: array \['opt_state'\]\[0\]\.mu\['w'\]"):
            ckpt.restore(1, template)
        state, meta = ckpt.restore(1, template, legacy_paths=legacy_state_paths(NewToy()))
    assert meta == {"epoch": 1}
    assert state["params"]["inner"]["w"][...].tolist() == np.arange(6.0).reshape(2, 3).tolist()
    assert state["opt_state"][0].mu["inner"]["w"][...].tolist() == [[7.0] * 3] * 2  # optimizer moments too
    assert state["params"]["b"][...].tolist() == [1.0] * 3
    assert jax.tree.structure(state) == jax.tree.structure(template)


def test_renames_that_do_not_make_it_fit_keep_the_original_error(old_folder: Path) -> None:
    with Checkpointer(old_folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match=r"does not fit this model: array .*\['w'\]"):
            ckpt.restore(1, train_state(NewToy()), legacy_paths={("w",): ("elsewhere", "w")})


def test_an_old_layout_is_verified_as_stored(old_folder: Path) -> None:
    biggest = max((p for p in (old_folder / "1").rglob("*") if p.is_file() and p.name != MANIFEST),
                  key=lambda p: p.stat().st_size)
    data = biggest.read_bytes()
    biggest.write_bytes(bytes([data[0] ^ 1]) + data[1:])
    with Checkpointer(old_folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match="is damaged: file .* fails its SHA-256 check"):
            ckpt.restore(1, train_state(NewToy()), legacy_paths=legacy_state_paths(NewToy()))


def test_an_old_layout_without_a_manifest_is_renamed_after_reading(old_folder: Path) -> None:
    (old_folder / "1" / MANIFEST).unlink()
    with Checkpointer(old_folder, read_only=True) as ckpt:
        with pytest.raises(CheckpointError, match="is damaged or does not fit this model"):
            ckpt.restore(1, train_state(NewToy()))
        state, _ = ckpt.restore(1, train_state(NewToy()), legacy_paths=legacy_state_paths(NewToy()))
    assert state["params"]["inner"]["w"][1, 2] == 5.0


# -- real artifex 0.1 VQ-VAE run folders ---------------------------------------------------------------
@pytest.fixture(params=LEGACY_RUNS)
def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, Any], Path]:
    """A copy of the run folder (the fixture stays untouched), what the old code computed, its sample.png."""
    source = DATA / request.param
    run = tmp_path / "run"
    shutil.copytree(source / "run", run)
    return run, json.loads((source / "expected.json").read_text()), source / "sample.png"


def manifest_paths(run: Path, epoch: int) -> list[str]:
    return list(json.loads((run / "checkpoints" / str(epoch) / MANIFEST).read_text())["arrays"])


def test_the_fixture_is_in_the_old_layout(legacy: tuple[Path, dict[str, Any], Path]) -> None:
    run, _, _ = legacy
    paths = manifest_paths(run, 1)
    assert "['rest']['code_counts'].value" in paths and not any("latent" in p for p in paths)


def test_load_run_gives_the_numbers_of_the_old_code(legacy: tuple[Path, dict[str, Any], Path]) -> None:
    run, expected, _ = legacy
    loaded = load_run(run)
    model = loaded.model
    assert loaded.epoch == expected["epoch"] == 1
    assert np.asarray(model.code_usage()).tolist() == expected["code_usage"]
    np.testing.assert_allclose(np.asarray(model.latent.codebook[...]), expected["codebook"], rtol=1e-6)
    samples = np.asarray(model.sample(4, rngs=nnx.Rngs(0)))
    np.testing.assert_allclose(samples.sum(axis=(1, 2, 3)), expected["sample_sums"], rtol=1e-5)
    recon = np.asarray(model.reconstruct(load_mnist(cache=False).x_test[:8]))
    np.testing.assert_allclose(recon.sum(axis=(1, 2, 3)), expected["reconstruction_sums"], rtol=1e-5)


def test_evaluate_and_sample_give_the_old_results(legacy: tuple[Path, dict[str, Any], Path], tmp_path: Path) -> None:
    run, expected, old_png = legacy
    result = runner.invoke(app, ["evaluate", str(run), "--json", "-q"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    for name, value in expected["test_loss"].items():
        assert metrics["test_loss"][name] == pytest.approx(value, rel=1e-5), name
    for name, value in expected["vq_usage"].items():
        assert metrics["vq_usage"][name] == pytest.approx(value, rel=1e-5), name
    png = tmp_path / "sample.png"
    result = runner.invoke(app, ["sample", str(run), "-n", "8", "-o", str(png), "--json"])
    assert result.exit_code == 0, result.output
    new, old = np.asarray(Image.open(png)).astype(int), np.asarray(Image.open(old_png)).astype(int)
    assert new.shape == old.shape and np.abs(new - old).max() <= 1


def test_resume_continues_an_old_run_in_the_new_layout(legacy: tuple[Path, dict[str, Any], Path]) -> None:
    run, expected, _ = legacy
    before = (run / "checkpoints" / "1" / MANIFEST).read_text()
    result = runner.invoke(app, ["train", "--resume", "--out", str(run), "--epochs", "2", "--json", "-q"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["resumed_from_epoch"] == 1 and summary["final"]["epoch"] == 2
    new_paths = manifest_paths(run, 2)
    assert "['rest']['latent']['code_counts'].value" in new_paths
    assert not any(p.startswith(("['rest']['code", "['params']['codebook']")) for p in new_paths)
    assert (run / "checkpoints" / "1" / MANIFEST).read_text() == before  # the old checkpoint is kept as it was
    loaded = load_run(run)
    assert loaded.epoch == 2
    counts = np.asarray(loaded.model.code_usage())
    # resumed: epoch 2 added its 8 steps x 32 examples x 2 codes to the counts of epoch 1
    assert counts.sum() == sum(expected["code_usage"]) + 8 * 32 * 2
    assert load_run(run, checkpoint=1).epoch == 1  # and the old one still loads


def test_the_renames_are_what_makes_an_old_run_load(
    legacy: tuple[Path, dict[str, Any], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    run, _, _ = legacy
    assert runner.invoke(app, ["train", "--resume", "--out", str(run), "--epochs", "2", "-q"]).exit_code == 0
    model_class = type(load_run(run).model)  # the registered class (doctests may import another copy)
    assert model_class.__name__ == "VQVAE" and model_class.legacy_state_paths
    monkeypatch.setattr(model_class, "legacy_state_paths", {})
    assert load_run(run, checkpoint=2).epoch == 2  # the resumed checkpoint is in the current layout
    old_name = r"\(1: array .*\['code(book|_counts)'\]\.value of the checkpoint is not in this model\)"
    with pytest.raises(CheckpointError, match=old_name):
        load_run(run, checkpoint=1)
