"""Constructing a registered sampler: what :func:`make_sampler` refuses, with a message naming why."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from artifex_core import Sampler, SamplerError
from artifex_core._registry import Registry
from artifex_core.training import make_sampler


class NoSample(Sampler):
    """A registered sampler that forgot to implement sample."""

    def __init__(self, level: float = 0.5) -> None:
        self.level = level


class Grey(Sampler):
    """Every sample is the same grey 2x2 image."""

    def __init__(self, level: float = 0.5) -> None:
        self.level = level

    def sample(self, model: Any, n: int, *, state: Any, seed: int = 0, temperature: float = 1.0,
               labels: np.ndarray | None = None) -> np.ndarray:
        return np.full((n, 2, 2, 1), self.level, np.float32)


def _entry(target: Any) -> Any:
    reg: Registry[Any] = Registry("sampler")
    reg.register("mine", target)
    return reg.entry("mine")


def test_a_registered_sampler_without_sample_is_reported_by_name() -> None:
    with pytest.raises(SamplerError) as info:
        make_sampler(_entry(NoSample), {"level": 0.1})
    assert str(info.value) == f"sampler 'local:mine' ({__name__}:NoSample) does not implement sample()"


def test_a_target_that_is_not_a_sampler_is_reported() -> None:
    with pytest.raises(SamplerError, match="sampler 'local:mine' is not a Sampler subclass"):
        make_sampler(_entry(dict))


def test_a_complete_sampler_is_built_with_its_options() -> None:
    sampler = make_sampler(_entry(Grey), {"level": 0.25})
    assert isinstance(sampler, Grey) and sampler.options() == {"level": 0.25}
    with pytest.raises(SamplerError, match="sampler 'mine' has no option 'lvl' \\(allowed: level\\)"):
        make_sampler(_entry(Grey), {"lvl": 1})
