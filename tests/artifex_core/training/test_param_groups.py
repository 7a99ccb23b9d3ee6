"""Parameter groups: each group's update is optax's update of its own loss; no gradient leaks; resume exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from toy_vae import DATA

from artifex_core.training import ParamGroup, TrainConfig, TrainConfigError, Trainer, optimizer_groups_of
from artifex_core.training._step_loss import group_gradients
from artifex_core.training._steps import split_params

CRITIC = {"optimizer": "sgd", "lr": 0.05}


class Critic(nnx.Module):
    """An encoder minimising ``loss`` and a critic minimising ``critic_loss``; each loss depends on both."""

    optimizer_groups = {"critic": ParamGroup("critic", loss="critic_loss", optimizer=CRITIC)}

    def __init__(self, *, rngs: nnx.Rngs) -> None:
        self.enc = nnx.Linear(36, 3, rngs=rngs)
        self.critic = nnx.Linear(3, 1, rngs=rngs)

    def losses(self, x: jax.Array) -> dict[str, jax.Array]:
        z = jnp.tanh(self.enc(x.reshape(x.shape[0], -1)))
        score = self.critic(z)[:, 0]
        return {"loss": jnp.mean(z**2) + jnp.mean(score), "critic_loss": jnp.mean((score - 1.0) ** 2)}

    def loss_fn(self, batch: Any = None, step: Any = 0, **kwargs: Any) -> dict[str, jax.Array]:
        return self.losses(batch)


def _x() -> jax.Array:
    return jnp.asarray(DATA.train_images, jnp.float32) / 255.0


def _grads(model: Critic, key: str, x: jax.Array) -> Any:
    graphdef, params, rest = split_params(model)
    return jax.grad(lambda p: nnx.merge(graphdef, p, rest, copy=True).losses(x)[key])(params)


def test_group_gradients_take_each_loss_for_its_own_parameters_only() -> None:
    model, x = Critic(rngs=nnx.Rngs(0)), _x()
    graphdef, params, rest = split_params(model)
    main, critic = _grads(model, "loss", x), _grads(model, "critic_loss", x)
    # each loss does reach the other group's parameters, so the masking below is not vacuous
    assert float(optax.tree.norm(critic["enc"])) > 1e-3 and float(optax.tree.norm(main["critic"])) > 1e-3
    grads, norms, _ = group_gradients(
        lambda p: (nnx.merge(graphdef, p, rest, copy=True).losses(x), None), params, tuple(Critic.optimizer_groups.items())
    )
    for a, b in zip(jax.tree.leaves(grads["enc"]), jax.tree.leaves(main["enc"]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    for a, b in zip(jax.tree.leaves(grads["critic"]), jax.tree.leaves(critic["critic"]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert float(norms["grad_norm_critic"]) == pytest.approx(float(optax.tree.norm(critic["critic"])), rel=1e-5)


def _train(epochs: int, run_dir: Path | None = None, *, resume: bool = False, **cfg: Any) -> tuple[Critic, Trainer]:
    model = Critic(rngs=nnx.Rngs(0))
    config = TrainConfig(**{"epochs": epochs, "batch_size": 256, "eval_batch_size": 64, "binarize": "none",
                            "steps_per_dispatch": 1, "log_every": 1, "dataset": "bars", **cfg})
    trainer = Trainer(model, config, DATA, run_dir=run_dir)
    trainer.fit(resume=resume)
    return model, trainer


def test_one_step_is_each_groups_own_optax_update() -> None:
    start, x = Critic(rngs=nnx.Rngs(0)), _x()  # the whole split is one batch: the step's batch is x, reordered
    trained, _ = _train(1, lr=3e-3)
    main, critic = _grads(start, "loss", x), _grads(start, "critic_loss", x)
    _, params, _ = split_params(start)
    adam, sgd = optax.adam(3e-3), optax.sgd(0.05)
    enc_update, _ = adam.update(main["enc"], adam.init(params["enc"]), params["enc"])
    critic_update, _ = sgd.update(critic["critic"], sgd.init(params["critic"]), params["critic"])
    expected_enc = optax.apply_updates(params["enc"], enc_update)
    expected_critic = optax.apply_updates(params["critic"], critic_update)
    _, got, _ = split_params(trained)
    for a, b in zip(jax.tree.leaves(got["enc"]), jax.tree.leaves(expected_enc), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(got["critic"]), jax.tree.leaves(expected_critic), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_run_overrides_a_groups_optimizer_and_the_step_records_its_loss(tmp_path: Path) -> None:
    start, x = Critic(rngs=nnx.Rngs(0)), _x()
    trained, _ = _train(1, tmp_path / "run", group_optimizers={"critic": {"lr": 0.5}})
    critic = _grads(start, "critic_loss", x)
    _, params, _ = split_params(start)
    expected = jax.tree.map(lambda p, g: p - 0.5 * g, params["critic"], critic["critic"])  # sgd, the run's lr
    _, got, _ = split_params(trained)
    for a, b in zip(jax.tree.leaves(got["critic"]), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    import json

    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    assert {"loss", "critic_loss", "grad_norm", "grad_norm_critic"} <= set(row["train"])


def test_resume_ends_exactly_where_the_uninterrupted_run_ends(tmp_path: Path) -> None:
    full, _ = _train(4, tmp_path / "full", batch_size=64)
    _train(2, tmp_path / "half", batch_size=64)
    resumed, trainer = _train(4, tmp_path / "half", resume=True, batch_size=64)
    assert trainer.step == 16
    for a, b in zip(jax.tree.leaves(nnx.state(full, nnx.Param)), jax.tree.leaves(nnx.state(resumed, nnx.Param)), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    state = trainer.opt_state
    assert isinstance(state, optax.transforms.PartitionState) and set(state.inner_states) == {"main", "critic"}


def test_group_errors_name_the_group() -> None:
    with pytest.raises(TrainConfigError, match=r"group_optimizers: the model has no parameter group 'critc' \(its groups: critic\)"):
        _train(1, group_optimizers={"critc": {"lr": 0.1}})
    with pytest.raises(TrainConfigError, match="group_optimizers.critic: 'epochs' is not an optimizer setting"):
        _train(1, group_optimizers={"critic": {"epochs": 3}})
    with pytest.raises(TrainConfigError, match="group_optimizers: the model has no parameter group 'x' \\(its groups: none\\)"):
        Trainer(nnx.Linear(36, 1, rngs=nnx.Rngs(0)), TrainConfig(dataset="bars", group_optimizers={"x": {}}), DATA)

    class Empty(Critic):
        optimizer_groups = {"critic": ParamGroup("nothing_here", loss="critic_loss")}

    with pytest.raises(ValueError, match="parameter group 'critic' of Empty holds no parameter"):
        Trainer(Empty(rngs=nnx.Rngs(0)), TrainConfig(dataset="bars", binarize="none"), DATA)

    class Reserved:
        optimizer_groups = {"main": ParamGroup("enc", loss="loss")}

    with pytest.raises(ValueError, match="'main' is reserved"):
        optimizer_groups_of(Reserved())

    class Missing(Critic):
        optimizer_groups = {"critic": ParamGroup("critic", loss="no_such_loss")}

    with pytest.raises(KeyError, match="parameter group 'critic' minimises 'no_such_loss', which loss_fn does not return"):
        Trainer(Missing(rngs=nnx.Rngs(0)), TrainConfig(dataset="bars", binarize="none", epochs=1, batch_size=256), DATA).fit()
