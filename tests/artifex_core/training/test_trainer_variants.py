"""The trainer on tiny data, variants: steps per dispatch, conditional models, configuration errors."""

from __future__ import annotations

import numpy as np
import pytest
from flax import nnx
from toy_vae import BASE, DATA, ToyVAE, fit, params_of, toy_dataset

from artifex_core.training import TrainConfig, Trainer
from artifex_core.training import TrainConfigError
from artifex_core.training._trainer import has_convolutions


def test_steps_per_dispatch_does_not_change_the_result() -> None:
    two, _, r2 = fit(None, epochs=2)  # 8 steps/epoch as 4 dispatches of 2
    three, trainer, r3 = fit(None, epochs=2, steps_per_dispatch=3)  # as 3 + 3 + 2
    assert trainer.steps_per_dispatch == 3
    for x, y in zip(params_of(two), params_of(three), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    assert r2.history[-1]["test"]["loss"] == pytest.approx(r3.history[-1]["test"]["loss"], rel=1e-5)


def test_steps_per_dispatch_default_depends_on_convolutions() -> None:
    dense = ToyVAE((6, 6, 1), rngs=nnx.Rngs(0))
    assert not has_convolutions(dense)
    assert Trainer(dense, TrainConfig(batch_size=16), DATA).steps_per_dispatch == 10  # 16 steps per epoch
    assert Trainer(dense, TrainConfig(batch_size=64), DATA).steps_per_dispatch == 4  # at most one epoch
    dense.extra = nnx.Conv(1, 2, (3, 3), rngs=nnx.Rngs(0))
    assert has_convolutions(dense)
    assert Trainer(dense, TrainConfig(batch_size=16), DATA).steps_per_dispatch == 1


def test_conditional_models_get_labels() -> None:
    model, _, result = fit(None, epochs=1, conditional=True, model_kwargs={"num_classes": 6})
    assert np.isfinite(result.history[0]["test"]["loss"])
    unlabelled = toy_dataset(labels=False)
    with pytest.raises(TrainConfigError, match="has no labels"):
        Trainer(model, TrainConfig(**BASE), unlabelled, conditional=True)


def test_configuration_errors() -> None:
    model = ToyVAE((6, 6, 1), rngs=nnx.Rngs(0))
    with pytest.raises(TrainConfigError, match="batch_size 512 is larger than the 256 training examples"):
        Trainer(model, TrainConfig(batch_size=512), DATA)
    with pytest.raises(TrainConfigError, match="weight_decay: optimizer 'sgd' has no weight decay"):
        Trainer(model, TrainConfig(**{**BASE, "optimizer": "sgd", "weight_decay": 0.1}), DATA).fit()
