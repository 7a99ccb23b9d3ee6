"""How a model drives its parts: key streams, keyword-aware calls, precision on every layer."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae._submodules import accepts, apply_precision, call_module, draw_key


class _Plain:
    def __call__(self, x: Any) -> Any:
        return ("plain", x)


class _TakesRngs:
    def __call__(self, x: Any, *, rngs: nnx.Rngs | None = None) -> Any:
        return ("rngs", rngs is not None)


class _TakesAny:
    def __call__(self, x: Any, **kwargs: Any) -> Any:
        return ("any", sorted(kwargs))


def test_draw_key_prefers_sample_then_default_then_params() -> None:
    both = nnx.Rngs(sample=1, default=2)
    np.testing.assert_array_equal(
        jax.random.key_data(draw_key(both)), jax.random.key_data(nnx.Rngs(sample=1).sample())
    )
    only_params = nnx.Rngs(params=3)
    np.testing.assert_array_equal(
        jax.random.key_data(draw_key(only_params)), jax.random.key_data(nnx.Rngs(params=3).params())
    )


def test_draw_key_advances_the_stream() -> None:
    rngs = nnx.Rngs(0)
    assert not np.array_equal(jax.random.key_data(draw_key(rngs)), jax.random.key_data(draw_key(rngs)))


def test_draw_key_without_a_usable_stream_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match="needs a 'sample' or 'default' stream"):
        draw_key(nnx.Rngs(dropout=0))


def test_accepts_reads_the_signature_and_var_keywords() -> None:
    assert not accepts(_Plain, "rngs")
    assert accepts(_TakesRngs, "rngs") and not accepts(_TakesRngs, "condition")
    assert accepts(_TakesAny, "condition")


def test_call_module_passes_rngs_only_to_modules_that_take_it() -> None:
    rngs = nnx.Rngs(0)
    assert call_module(_Plain(), 1, rngs=rngs) == ("plain", 1)
    assert call_module(_TakesRngs(), 1, rngs=rngs) == ("rngs", True)
    assert call_module(_TakesRngs(), 1) == ("rngs", False)
    assert call_module(_TakesAny(), 1, rngs=rngs, y=2) == ("any", ["rngs", "y"])


def test_apply_precision_reaches_nested_layers() -> None:
    rngs = nnx.Rngs(0)
    model = nnx.Sequential(nnx.Linear(2, 3, rngs=rngs), nnx.Sequential(nnx.Conv(3, 3, (3,), rngs=rngs)))
    apply_precision(model, jax.lax.Precision.HIGHEST)
    layers = [node for _, node in nnx.iter_graph(model) if isinstance(node, (nnx.Linear, nnx.Conv))]
    assert len(layers) == 2 and all(layer.precision == jax.lax.Precision.HIGHEST for layer in layers)
