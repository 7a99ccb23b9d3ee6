"""The "Contracts" section of "Write a plugin": its logger example is a working, conforming logger."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import artifex_core
from artifex_core.testing import check_logger, isolated_registries
from artifex_core.training import build_loggers

PAGE = Path(__file__).resolve().parents[1] / "docs" / "write-a-plugin.md"


def _contract_block(kind: str) -> str:
    section = PAGE.read_text().split("\n## Contracts\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(# contract: (\w+).*?)```", section, re.DOTALL)
    return next(body for body, name in blocks if name == kind)


def test_the_section_names_every_kind_with_a_signature() -> None:
    section = PAGE.read_text().split("\n## Contracts\n", 1)[1].split("\n## ", 1)[0]
    for heading in ("Encoders and decoders", "Datasets", "Losses", "Loggers", "Recipes and metrics"):
        assert f"### {heading}" in section
    for heading in ("Recipes", "Metrics"):
        assert f"#### {heading}" in section
    for signature in ("def __call__(self, x: jax.Array, *, rngs: nnx.Rngs | None = None)",
                      "def __init__(self, run_dir: Path, **kwargs) -> None", "def my_loss(reconstructed"):
        assert signature in section


def test_the_logger_example_conforms_and_logs_every_epoch_exactly_once(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "contract_logger"}
    exec(compile(_contract_block("logger"), str(PAGE), "exec"), namespace)  # noqa: S102 - our own docs
    csv_logger = namespace["CsvLogger"]

    class Plugin:
        @artifex_core.hookimpl
        def artifex_register(self, registry: Any) -> None:
            registry.loggers.register("csv", csv_logger, summary="Test losses as CSV")

    with isolated_registries() as host:
        assert host.register(Plugin(), name="docs").registered == ["loggers:csv"]
        assert check_logger("csv", filename="t.csv") == {"logger": "CsvLogger", "files": ["t.csv"]}
        [logger] = build_loggers({"csv": {}}, tmp_path)
    for start, epochs in ((0, (1, 2, 3)), (2, (3,))):  # a fresh run killed after logging epoch 3, then resumed
        logger.on_fit_start(None, start)
        for epoch in epochs:
            logger.on_epoch_end(None, {"epoch": epoch, "test": {"loss": 1.0 / epoch}})
        logger.close()
    rows = (tmp_path / "losses.csv").read_text().splitlines()
    assert rows[0] == "epoch,test_loss" and [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]


def test_the_metric_example_conforms_and_its_recipe_is_found() -> None:
    import numpy as np

    from artifex_core import metrics, recipes
    from artifex_core.testing import check_metric
    from artifex_core.training import recipe

    namespace: dict[str, Any] = {"__name__": "contract_metric"}
    exec(compile(_contract_block("metric"), str(PAGE), "exec"), namespace)  # noqa: S102 - our own docs
    with isolated_registries():
        metrics.register("kl_per_dim", namespace["KLPerDimension"])
        report = check_metric("kl_per_dim", examples=8)
        assert len(report["figures"]["kl_per_dim"]) == 4  # tiny_config's latent_dim
        assert np.isclose(sum(report["figures"]["kl_per_dim"]), report["figures"]["kl"])
        assert check_metric("kl_per_dim", model="vqvae", config=_vq())["applies"] is False
        recipes.register("freebits_vae", {"model": {"model": "vae", "latent_dim": 8}, "train": {"epochs": 20}})
        assert recipe("freebits_vae") == ({"model": "vae", "latent_dim": 8}, {"epochs": 20})


def _vq() -> Any:
    from artifex_core.testing import tiny_config

    return tiny_config("vqvae", parameters={"embedding_dim": 2, "num_embeddings": 8})
