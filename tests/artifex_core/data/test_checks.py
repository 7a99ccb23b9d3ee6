"""check_training_data: one clear line for each kind of bad training data, fast on MNIST-sized data."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from artifex_core.data import DatasetError, TrainingDataError, check_training_data
from artifex_core.data import Dataset


def toy(n: int = 6, *, dtype: type = np.uint8) -> Dataset:
    x = np.zeros((n, 2, 2, 1), dtype)
    y = np.arange(n, dtype=np.int32) % 3
    return Dataset("toy", x, y, x[:2].copy(), y[:2].copy(), num_classes=3)


def test_good_data_passes() -> None:
    check_training_data(toy(), num_classes=3, conditional=True)
    check_training_data(toy(dtype=np.float32), num_classes=None, conditional=False)
    check_training_data(replace(toy(), train_labels=None, test_labels=None), num_classes=None, conditional=False)


def test_errors_are_dataset_errors() -> None:
    assert issubclass(TrainingDataError, DatasetError)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"train_labels": np.array([0, 1, 2, 12, 1, 0])}, "toy: train label 12 at index 3 is outside [0, 3)"),
        ({"train_labels": np.array([0, 1, -1, 0, 1, 0])}, "toy: train label -1 at index 2 is outside [0, 3)"),
        ({"test_labels": np.array([0, 3])}, "toy: test label 3 at index 1 is outside [0, 3)"),
        ({"train_labels": np.zeros(6, np.float32)}, "toy: train labels must be integers, got dtype float32"),
        ({"train_labels": np.zeros(6, bool)}, "toy: train labels must be integers, got dtype bool"),
        ({"train_labels": np.zeros(5, np.int32)}, "toy: train has 5 labels for 6 images"),
        ({"test_labels": np.zeros((2, 1), np.int32)}, "toy: test labels must have shape (N,), got (2, 1)"),
        ({"test_images": np.zeros((2, 3, 3, 1), np.uint8)}, "toy: test examples have shape (3, 3, 1), train examples (2, 2, 1)"),
        (
            {"train_images": [np.zeros((2, 2, 1))] * 3 + [np.zeros((2, 3, 1))] + [np.zeros((2, 2, 1))] * 2},
            "toy: train image at index 3 has shape (2, 3, 1), the first has shape (2, 2, 1)",
        ),
        ({"train_images": np.zeros((0, 2, 2, 1), np.uint8)}, "toy: train images: expected a non-empty batch"),
        ({"train_labels": None}, "toy: a conditional model needs labels, the train split has none"),
    ],
)
def test_each_problem_is_one_clear_line(change: dict, message: str) -> None:
    with pytest.raises(TrainingDataError) as info:
        check_training_data(replace(toy(), **change), num_classes=3, conditional=True)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("value", "kind"), [(np.nan, "NaN"), (np.inf, "infinite values"), (-np.inf, "infinite values")])
@pytest.mark.parametrize("split", ["train", "test"])
def test_nan_and_inf_pixels_name_split_and_index(value: float, kind: str, split: str) -> None:
    ds = toy(dtype=np.float32)
    images = getattr(ds, f"{split}_images")
    images[1, 1, 0, 0] = value
    with pytest.raises(TrainingDataError, match=rf"^toy: {split} image at index 1 contains {kind}$"):
        check_training_data(ds, num_classes=None, conditional=False)


def test_without_num_classes_labels_must_be_non_negative() -> None:
    ds = replace(toy(), train_labels=np.array([0, 1, 99, 0, -4, 0]))
    with pytest.raises(TrainingDataError, match=r"^toy: train label -4 at index 4 is negative$"):
        check_training_data(ds, num_classes=None, conditional=False)


def test_conditional_falls_back_to_the_dataset_num_classes() -> None:
    ds = replace(toy(), train_labels=np.array([0, 1, 2, 3, 0, 0]))
    with pytest.raises(TrainingDataError, match=r"label 3 at index 3 is outside \[0, 3\)"):
        check_training_data(ds, num_classes=None, conditional=True)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_mnist_sized_data_takes_milliseconds(dtype: type) -> None:
    y = np.random.default_rng(0).integers(0, 10, 60_000).astype(np.int32)
    x = np.ones((60_000, 28, 28, 1), dtype)  # MNIST's size; float32 is the slow case (NaN/inf scan)
    ds = Dataset("big", x, y, x[:10_000], y[:10_000], num_classes=10)
    check_training_data(ds, num_classes=10, conditional=True)  # warm up
    start = time.perf_counter()
    check_training_data(ds, num_classes=10, conditional=True)
    assert time.perf_counter() - start < 0.5  # milliseconds on a 2-core CPU; loose for a busy machine


def test_the_module_does_not_import_jax() -> None:
    code = "import sys, artifex_core.data._checks; print('jax' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
