"""``check_metric``: passes the built-in metrics and names each broken promise of a bad one."""

from __future__ import annotations

from typing import Any

import pytest

from artifex_core.evaluation import Metric
from artifex_core import metrics
from artifex_core.testing import ConformanceError, check_metric, isolated_registries, tiny_config


@pytest.mark.parametrize(("name", "model"), [("test_loss", "vae"), ("elbo", "vae"), ("iwae", "vae"), ("active_units", "vae"),
                                             ("vq_usage", "vqvae")])
def test_built_in_metrics_conform(name: str, model: str) -> None:
    config = tiny_config(model, latent_dim=4, parameters={"embedding_dim": 2, "num_embeddings": 8}) if model == "vqvae" else None
    report = check_metric(name, model=model, config=config, examples=8, **({"k": 4} if name == "iwae" else {}))
    assert report["applies"] and report["figures"]


def test_a_metric_that_does_not_apply_is_not_computed() -> None:
    assert check_metric("vq_usage", model="vae", examples=4) == {"metric": "CodebookUsage", "applies": False,
                                                                 "figures": None}


class _NaN(Metric):
    def compute(self, run: Any, data: Any, *, seed: int) -> dict[str, Any]:
        return {"value": float("nan")}


class _Random(Metric):
    calls = 0

    def compute(self, run: Any, data: Any, *, seed: int) -> dict[str, Any]:
        _Random.calls += 1
        return {"value": _Random.calls}


class _Raises(Metric):
    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale

    def compute(self, run: Any, data: Any, *, seed: int) -> dict[str, Any]:
        raise RuntimeError("no model for me")


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        (_NaN, {}, "JSON with finite numbers"),
        (_Random, {}, "differs for the same seed"),
        (_Raises, {}, "raised in compute: RuntimeError: no model for me"),
        (_Raises, {"scael": 2.0}, r"does not declare option\(s\) \['scael'\] \(declares: \['scale'\]\)"),
        (lambda: None, {}, "is not a Metric subclass"),
    ],
)
def test_broken_metrics_are_named(target: Any, options: dict[str, Any], message: str) -> None:
    with isolated_registries():
        metrics.register("bad", target)
        with pytest.raises(ConformanceError, match=message):
            check_metric("bad", examples=4, **options)


class _Describes(Metric):
    """Reports which model it was computed on."""

    def compute(self, run: Any, data: Any, *, seed: int) -> dict[str, Any]:
        return {"model": run.model_config.model, "model_class": type(run.model).__name__}


def test_without_model_or_config_the_model_is_model_configs_default() -> None:
    from artifex_core import ModelConfig

    with isolated_registries():
        metrics.register("describes", _Describes)
        default = check_metric("describes", examples=4)["figures"]
        assert default["model"] == ModelConfig().model
        assert check_metric("describes", model=None, examples=4)["figures"] == default
        chosen = check_metric("describes", model="vqvae", examples=4,
                              config=tiny_config("vqvae", parameters={"embedding_dim": 2, "num_embeddings": 8}))
        assert chosen["figures"]["model"] == "vqvae" != default["model"]
