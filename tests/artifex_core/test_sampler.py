"""The :class:`Sampler` contract: ``sample`` is abstract, ``fit`` and ``options`` have working defaults."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from artifex_core import Sampler


class _FitsOnly(Sampler):
    """Overrides fit but forgets sample."""

    def fit(self, model: Any, x_train: np.ndarray, *, y_train: np.ndarray | None = None, seed: int = 0) -> dict:
        return {"mean": x_train.mean(axis=0)}


class _Zeros(Sampler):
    """Implements only sample: fit and options are the base class's."""

    def __init__(self, size: int = 2) -> None:
        self.size = size

    def sample(self, model: Any, n: int, *, state: Any, seed: int = 0, temperature: float = 1.0,
               labels: np.ndarray | None = None) -> np.ndarray:
        return np.zeros((n, self.size), np.float32)


def test_the_base_class_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match="abstract method.*sample"):
        Sampler()  # type: ignore[abstract]


def test_a_subclass_without_sample_cannot_be_instantiated() -> None:
    assert Sampler.__abstractmethods__ == frozenset({"sample"})
    with pytest.raises(TypeError, match="_FitsOnly.*abstract method.*sample"):
        _FitsOnly()  # type: ignore[abstract]


def test_a_subclass_with_sample_keeps_the_default_fit_and_options() -> None:
    sampler = _Zeros(size=3)
    assert sampler.fit(None, np.ones((4, 3))) == {}
    assert sampler.options() == {"size": 3}
    assert sampler.sample(None, 5, state={}).shape == (5, 3)
