"""The host-streaming path trains exactly as the device-resident one: same batches, bits, metrics, parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flax import nnx
from pydantic import ValidationError
from toy_vae import ToyVAE, params_of

from artifex_core.data import Dataset, pack_dataset, load_pack
from artifex_core.training import TrainConfig, Trainer, plan_fit


def gray(n_train: int = 224, n_test: int = 50, seed: int = 0) -> Dataset:
    """Grey levels (not 0/255), so that binarization draws bits that depend on the key and step."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n_train + n_test, 6, 6, 1), dtype=np.uint8)
    y = rng.integers(0, 4, n_train + n_test)
    return Dataset.from_arrays("gray", x[:n_train], y[:n_train], x[n_train:], y[n_train:])


DATA = gray()
# 7 steps an epoch in dispatches of 3 (3, 3, 1: the last is padded and skipped); test batches of 24 (24, 24, 2)
CFG = {"dataset": "gray", "epochs": 2, "batch_size": 32, "eval_batch_size": 24, "log_every": 4,
       "steps_per_dispatch": 3}


def _fit(placement: str, dataset: Dataset = DATA, conditional: bool = False, **cfg: Any) -> tuple[Trainer, Any, Any]:
    model = ToyVAE((6, 6, 1), rngs=nnx.Rngs(0), num_classes=4 if conditional else None)
    trainer = Trainer(model, TrainConfig(**{**CFG, **cfg, "data_placement": placement}), dataset,
                      conditional=conditional)
    result = trainer.fit()
    return trainer, result, params_of(model)


def _metrics(result: Any) -> list[Any]:
    return [(r["step"], r["train"], r["test"]) for r in result.history]


@pytest.mark.parametrize(("binarize", "conditional"), [("dynamic", False), ("fixed", True)])
def test_stream_equals_device(binarize: str, conditional: bool) -> None:
    device, d_result, d_params = _fit("device", conditional=conditional, binarize=binarize)
    stream, s_result, s_params = _fit("stream", conditional=conditional, binarize=binarize)
    assert device.data_placement == "device" and device.feeder is None and device.train_split is not None
    assert stream.data_placement == "stream" and stream.train_split is None and stream.feeder is not None
    assert stream.config.data_placement == "stream"
    assert _metrics(s_result) == _metrics(d_result)  # bit for bit: the same batches through the same step code
    for a, b in zip(d_params, s_params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert s_result.history[-1]["step"] == 14


def test_other_batches_give_other_metrics_so_the_comparison_can_fail() -> None:
    """The same rows in another order (so other batches) give other metrics: the equality above is not vacuous."""
    _, base, _ = _fit("stream", binarize="dynamic")
    other = Dataset.from_arrays("gray", DATA.train_images[::-1], DATA.train_labels[::-1], DATA.test_images,
                                DATA.test_labels)
    _, shuffled, _ = _fit("stream", dataset=other, binarize="dynamic")
    assert _metrics(shuffled)[0][1]["loss"] != _metrics(base)[0][1]["loss"]


def test_a_pack_streams_from_its_memory_maps(tmp_path: Path) -> None:
    np.savez(tmp_path / "g.npz", x_train=DATA.train_images, y_train=DATA.train_labels, x_test=DATA.test_images,
             y_test=DATA.test_labels)
    pack_dataset(tmp_path / "g.npz", tmp_path / "pk")
    packed = load_pack(tmp_path / "pk")
    stream, s_result, s_params = _fit("stream", dataset=packed, binarize="fixed")
    assert isinstance(stream.feeder.images, np.memmap)  # type: ignore[union-attr]
    _, d_result, d_params = _fit("device", binarize="fixed")
    assert _metrics(s_result) == _metrics(d_result)
    for a, b in zip(d_params, s_params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_auto_streams_past_the_budget_and_the_plan_records_the_choice() -> None:
    size_mb = (DATA.train_images.nbytes + DATA.test_images.nbytes + 4 * 274) / 2**20  # 274 labels
    small = plan_fit(TrainConfig(**CFG, device_data_budget_mb=size_mb * 0.99), DATA)
    large = plan_fit(TrainConfig(**CFG, device_data_budget_mb=size_mb * 1.01), DATA)
    assert (small.data_placement, small.train_config.data_placement) == ("stream", "stream")
    assert (large.data_placement, large.train_config.data_placement) == ("device", "device")
    assert small.train_config.model_dump(mode="json")["data_placement"] == "stream"  # what config.json keeps
    assert plan_fit(TrainConfig(**CFG), DATA).data_placement == "device"  # a few KB fit in half the free memory
    forced = plan_fit(TrainConfig(**CFG, data_placement="device", device_data_budget_mb=1e-6), DATA)
    assert forced.data_placement == "device"


def test_bad_placement_values_are_named() -> None:
    with pytest.raises(ValidationError, match=r"data_placement\n  Input should be 'auto', 'device' or 'stream'"):
        TrainConfig(**CFG, data_placement="host")
    with pytest.raises(ValidationError, match=r"device_data_budget_mb\n  Input should be greater than 0"):
        TrainConfig(**CFG, device_data_budget_mb=0)
