"""FactorVAE: permute-dims, the TC estimate and discriminator loss in closed form, its two optimizers, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from typer.testing import CliRunner

from artifex_core import ModelConfig, create_model, models, recipes
from artifex_core.cli import app
from artifex_core.testing import check_model, tiny_config
from artifex_core.training import optimizer_groups_of
from artifex_zoo._factor_vae import FactorVAE, discriminator_loss, permute_dims, tc_estimate

runner = CliRunner()


def _model(hidden: tuple[int, ...] = (16,), gamma: float = 10.0) -> FactorVAE:
    cfg = ModelConfig(model="factorvae", input_dim=(12,), latent_dim=4, hidden_dims=(8,),
                      parameters={"gamma": gamma, "discriminator_hidden": list(hidden)})
    model = create_model(cfg, rngs=nnx.Rngs(0))
    assert isinstance(model, FactorVAE)
    return model


def test_permute_dims_permutes_each_dimension_independently_across_the_batch() -> None:
    batch, dims = 64, 6
    z = jnp.arange(batch * dims, dtype=jnp.float32).reshape(batch, dims)  # every entry distinct
    out = np.asarray(permute_dims(jax.random.key(3), z))
    rows = []
    for j in range(dims):
        column = np.asarray(z[:, j])
        assert sorted(out[:, j].tolist()) == column.tolist()  # a permutation of its own column
        rows.append(((out[:, j] - column[0]) / dims).astype(int))  # the source row of each entry
    rows_arr = np.stack(rows)
    assert len({tuple(r) for r in rows_arr}) == dims  # each dimension has its own permutation
    assert not np.all(rows_arr == np.arange(batch))  # and it moved things
    same_row = np.mean(np.all(rows_arr == rows_arr[:1], axis=0))
    assert same_row < 0.1  # the joint rows are broken up: almost no row keeps its partners
    np.testing.assert_array_equal(out, np.asarray(permute_dims(jax.random.key(3), z)))


def test_tc_estimate_is_the_mean_log_density_ratio_of_a_fixed_discriminator() -> None:
    model = _model(hidden=())  # a linear discriminator: logit D(z) = w . z + b
    w = jnp.array([[0.5], [-1.0], [2.0], [0.25]])
    model.discriminator.head.kernel[...] = w
    model.discriminator.head.bias[...] = jnp.array([0.3])
    z = jax.random.normal(jax.random.key(0), (50, 4))
    logits = model.discriminator(z)
    d = jax.nn.sigmoid(logits)
    ratio = np.mean(np.log(np.asarray(d) / (1 - np.asarray(d))))
    assert float(tc_estimate(logits)) == pytest.approx(ratio, rel=1e-4)
    assert float(tc_estimate(logits)) == pytest.approx(float(jnp.mean(z @ w[:, 0] + 0.3)), rel=1e-5)
    fake = permute_dims(jax.random.key(1), z)
    fake_d = jax.nn.sigmoid(model.discriminator(fake))
    expected = -0.5 * (np.mean(np.log(np.asarray(d))) + np.mean(np.log(1 - np.asarray(fake_d))))
    assert float(discriminator_loss(logits, model.discriminator(fake))) == pytest.approx(expected, rel=1e-5)


def test_the_loss_adds_gamma_times_the_tc_estimate_of_the_forward_pass() -> None:
    model = _model(hidden=(), gamma=7.0)
    model.discriminator.head.kernel[...] = jnp.zeros((4, 1))
    model.discriminator.head.bias[...] = jnp.array([1.5])  # logit 1.5 everywhere: TC = 1.5, D loss closed form
    x = jax.random.uniform(jax.random.key(0), (5, 12))
    losses = model.loss_fn(x=x)
    assert float(losses["total_correlation"]) == pytest.approx(1.5)
    assert float(losses["loss"]) == pytest.approx(float(losses["reconstruction_loss"] + losses["kl_loss"] + 7.0 * 1.5), rel=1e-6)
    d = 1 / (1 + np.exp(-1.5))
    assert float(losses["discriminator_loss"]) == pytest.approx(-0.5 * (np.log(d) + np.log(1 - d)), rel=1e-5)
    assert float(losses["discriminator_accuracy"]) == pytest.approx(0.5)  # says "real" to every sample


def test_declares_the_discriminator_group_and_meets_the_model_contract() -> None:
    model = _model()
    groups = optimizer_groups_of(model)
    assert list(groups) == ["discriminator"] and groups["discriminator"].loss == "discriminator_loss"
    assert groups["discriminator"].optimizer["lr"] == 1e-4
    check_model("factorvae", config=tiny_config("factorvae", parameters={"discriminator_hidden": [8]}))
    assert models.entry("factor_vae").qualified_id == "zoo:factorvae"
    assert recipes.entry("factorvae").load()["model"]["model"] == "factorvae"
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0, got -1.0"):
        FactorVAE(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), nnx.Linear(2, 2, rngs=nnx.Rngs(0)), 2, gamma=-1.0, rngs=nnx.Rngs(0))


def test_artifex_train_factorvae_trains_both_groups(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((128, 6, 6)) < 0.3).astype(np.uint8) * 255
    npz = tmp_path / "bits.npz"
    np.savez(npz, x=x)
    out = tmp_path / "run"
    args = ["train", "--model", "factorvae", "--dataset", str(npz), "--epochs", "2", "--batch-size", "32",
            "--out", str(out), "--json", "--set", "hidden_dims=[16]", "--set", "latent_dim=3",
            "--set", "parameters.discriminator_hidden=[16]", "--set", "warmup_steps=2",
            "--set", 'train.group_optimizers={"discriminator": {"lr": 0.001}}']
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2
    for key in ("loss", "total_correlation", "discriminator_loss", "discriminator_accuracy", "grad_norm_discriminator"):
        assert np.isfinite(rows[-1]["train"][key]), key
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["group_optimizers"] == {"discriminator": {"lr": 0.001}}
    sampled = runner.invoke(app, ["sample", str(out), "-n", "4", "--json"])
    assert sampled.exit_code == 0, sampled.output  # the checkpoint (two optimizers' state) restores
    bad = runner.invoke(app, [*args[:-2], "--set", 'train.group_optimizers={"discrimnator": {"lr": 0.001}}',
                              "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "the model has no parameter group 'discrimnator' (its groups: discriminator)" in bad.stderr
