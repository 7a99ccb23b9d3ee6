"""Activations by name: values against closed forms, aliases, and the errors for unknown names."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_plugins.vae.activations import ACTIVATIONS, get_activation
from artifex_plugins.vae.decoders import CNNDecoder, MLPDecoder
from artifex_plugins.vae.encoders import CNNEncoder, MLPEncoder

X = np.array([-2.0, -0.5, 0.0, 1.5], dtype=np.float32)


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


CLOSED_FORMS = {
    "relu": lambda v: max(v, 0.0),
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": lambda v: math.log1p(math.exp(v)),
    "elu": lambda v: v if v > 0 else math.exp(v) - 1.0,
    "leaky_relu": lambda v: v if v >= 0 else 0.01 * v,
    "silu": lambda v: v * _sigmoid(v),
    "swish": lambda v: v * _sigmoid(v),
    # jax.nn.gelu defaults to the tanh approximation.
    "gelu": lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
}


def test_the_issue_names_are_exactly_the_valid_ones() -> None:
    assert set(ACTIVATIONS) == set(CLOSED_FORMS)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_activation_matches_its_closed_form(name: str) -> None:
    got = np.asarray(get_activation(name)(jnp.asarray(X)))
    want = np.array([CLOSED_FORMS[name](float(v)) for v in X], dtype=np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_swish_is_silu_and_names_are_normalised() -> None:
    assert get_activation("swish") is get_activation("silu")
    assert get_activation("Leaky-ReLU") is get_activation("leaky_relu")
    assert get_activation("  GELU ") is get_activation("gelu")


def test_callable_passes_through() -> None:
    def f(v):
        return v * 2

    assert get_activation(f) is f


def test_unknown_name_lists_valid_names_and_close_match() -> None:
    with pytest.raises(ValueError) as info:
        get_activation("rleu")
    msg = str(info.value)
    assert "'rleu'" in msg and "did you mean 'relu'" in msg
    for name in ACTIVATIONS:
        assert name in msg


def test_unknown_name_without_close_match_has_no_suggestion() -> None:
    with pytest.raises(ValueError, match="valid names: elu, gelu") as info:
        get_activation("quaternion")
    assert "did you mean" not in str(info.value)


def test_non_string_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="name or a callable"):
        get_activation(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda r: MLPEncoder([4], 2, activation="relux", input_dim=(3,), rngs=r),
        lambda r: CNNEncoder([4], 2, activation="relux", input_dim=(4, 4, 1), rngs=r),
        lambda r: MLPDecoder([4], (3,), 2, activation="relux", rngs=r),
        lambda r: CNNDecoder([4], (4, 4, 1), 2, activation="relux", rngs=r),
    ],
)
def test_modules_reject_unknown_activation_at_construction(build) -> None:
    with pytest.raises(ValueError, match="did you mean 'relu'"):
        build(nnx.Rngs(0))


def test_activation_name_changes_the_encoder_output() -> None:
    x = jnp.linspace(-1.0, 1.0, 6).reshape(2, 3)
    relu = MLPEncoder([8], 2, activation="relu", input_dim=(3,), rngs=nnx.Rngs(0))
    tanh = MLPEncoder([8], 2, activation="tanh", input_dim=(3,), rngs=nnx.Rngs(0))
    assert not np.allclose(relu(x)[0], tanh(x)[0])


def test_one_list_of_names_read_by_the_core_from_source() -> None:
    from artifex_core.introspect import module_constant
    from artifex_plugins.vae.activations import ACTIVATION_NAMES

    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES
    assert module_constant("artifex_plugins.vae.activations:ACTIVATION_NAMES") == ACTIVATION_NAMES
