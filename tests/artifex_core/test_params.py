"""VariantParams: the declared contract of a model's parameters, and what the core reads from it (nothing else)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artifex_core import DatasetInfo, ModelConfig, VariantParams
from artifex_core.data import Dataset
from artifex_core.params import ParamsContractError, binary_likelihood
from artifex_core.registry import losses, models
from artifex_core.training import TrainConfig
from artifex_core.training.run import resolve_train_config

pytest_plugins = ["artifex_core.testing"]

VAE = "artifex_plugins.vae.base:VAE"


class _Plain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kl_weight: float = 1.0


class _Checked(VariantParams):
    seen: ClassVar[list[Any]] = []
    width: int = Field(4, gt=0)

    @classmethod
    def check_config(cls, config: ModelConfig) -> None:
        cls.seen.append(config)
        if config.latent_dim > cls.model_validate(config.parameters).width:
            raise ValueError(f"parameters.width: must be at least latent_dim ({config.latent_dim})")


class _Huberish(VariantParams):
    loss: str = "gauss"

    def likelihood(self) -> str | None:
        return self.loss


def test_the_base_is_frozen_forbids_extras_and_declares_nothing() -> None:
    params = VariantParams()
    assert VariantParams.requires_condition is False and params.likelihood() is None
    assert VariantParams.dataset_defaults(DatasetInfo("x", (2,), num_train=3)) == {}
    assert VariantParams.check_config(ModelConfig()) is None
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        _Checked(widht=3)
    with pytest.raises(ValidationError, match="frozen"):
        _Checked().width = 5  # type: ignore[misc]


def test_params_that_do_not_subclass_it_are_an_error_naming_model_and_class(artifex_registries) -> None:
    models.register("plain", VAE, params=_Plain)
    with pytest.raises(ParamsContractError) as info:
        ModelConfig(model="plain", input_dim=(4,), hidden_dims=(4,), latent_dim=2)
    message = str(info.value)
    assert "model 'local:plain'" in message and "_Plain" in message and "artifex_core.VariantParams" in message


def test_lazy_params_are_checked_when_loaded(artifex_registries) -> None:
    models.register("lazy_plain", VAE, params=f"{__name__}:_Plain")
    assert "lazy_plain" in models.names()  # registering imports nothing, so nothing fails yet
    with pytest.raises(ParamsContractError, match="lazy_plain"):
        ModelConfig(model="lazy_plain")


def test_check_config_receives_the_validated_config(artifex_registries) -> None:
    models.register("checked", VAE, params=_Checked)
    _Checked.seen.clear()
    cfg = ModelConfig(model="checked", input_dim=(4,), hidden_dims=(4,), latent_dim=3, parameters={"width": 3})
    (seen,) = _Checked.seen
    assert isinstance(seen, ModelConfig) and seen.latent_dim == 3 and seen.parameters == cfg.parameters
    with pytest.raises(ValidationError, match=r"parameters.width: must be at least latent_dim \(5\)"):
        ModelConfig(model="checked", latent_dim=5)


def test_requires_condition_defaults_conditional_and_refuses_false(artifex_registries) -> None:
    class Labelled(VariantParams):
        requires_condition = True

    models.register("labelled", "artifex_plugins.vae.conditional:ConditionalVAE", params=Labelled)
    assert ModelConfig(model="labelled", num_classes=3).conditional
    with pytest.raises(ValidationError, match="conditional: model 'labelled' is conditional; set conditional=true"):
        ModelConfig(model="labelled", conditional=False)


def test_dataset_info_of_a_dataset() -> None:
    x = np.zeros((7, 3, 2, 1), np.uint8)
    info = DatasetInfo.of(Dataset.from_arrays("toy", x, np.arange(7) % 4, x[:2], np.arange(2)))
    assert info == DatasetInfo("toy", (3, 2, 1), num_train=7, num_classes=4)
    assert DatasetInfo.of(Dataset.from_arrays("u", x, None, x[:2], None)).num_classes is None


def test_auto_binarize_follows_the_declared_likelihood_and_the_loss_meta(artifex_registries) -> None:
    models.register("huberish", VAE, params=_Huberish)
    losses.register("coin", "operator:not_", meta={"binary_data": True})
    losses.register("gauss", "operator:not_")
    coin = ModelConfig(model="huberish", parameters={"loss": "coin"})
    gauss = ModelConfig(model="huberish")
    assert coin.likelihood() == "coin" and binary_likelihood(coin) and not binary_likelihood(gauss)
    auto = TrainConfig(dataset="x.npz")
    assert resolve_train_config(auto, coin).binarize == "dynamic"
    assert resolve_train_config(auto, gauss).binarize == "none"
    assert resolve_train_config(auto.model_copy(update={"binarize": "fixed"}), gauss).binarize == "fixed"
    unknown = ModelConfig(model="huberish", parameters={"loss": "not_registered"})
    assert not binary_likelihood(unknown)  # an unknown loss is the model's error to raise, not binarization's


def test_builtins_keep_their_binarization() -> None:
    for loss, mode in (("bce", "dynamic"), ("mse", "none"), ("l1", "none")):
        for model in ("vae", "beta_vae", "beta_vae_capacity", "vqvae"):
            cfg = ModelConfig(model=model, latent_dim=64, parameters={"reconstruction_loss_type": loss})
            assert TrainConfig(dataset="x.npz").resolved_binarize(cfg) == mode, (model, loss)
    assert losses.entry("bce").meta == {"binary_data": True} and not losses.entry("mse").meta


def test_a_model_without_params_declares_nothing(artifex_registries) -> None:
    models.register("bare", VAE)
    cfg = ModelConfig(model="bare", parameters={"anything": 1})
    assert cfg.variant_params() is None and cfg.likelihood() is None and not binary_likelihood(cfg)


def test_requires_condition_and_params_of_look_up_by_name(artifex_registries: Any) -> None:
    from artifex_core.params import params_of, requires_condition

    assert requires_condition("conditional_vae") and not requires_condition("vae")
    assert not requires_condition("no-such-model") and not requires_condition(3)
    assert params_of("beta_vae").__name__ == "BetaVAEParams" and params_of("no-such-model") is None
    models.register("bare", "artifex_plugins.vae.base:VAE")  # registered without params
    assert params_of("bare") is None and not requires_condition("bare")
