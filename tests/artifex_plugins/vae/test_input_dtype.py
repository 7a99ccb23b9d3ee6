"""Integer inputs are refused where they enter the models (issue #12): ``uint8`` images (0..255) used to be
taken as floats without a word, and the latents came out hundreds of times too large."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex_core import create_model
from artifex_core.testing import tiny_config

UINT8 = (r"x has dtype uint8; the model takes floats in \[0, 1\]: scale 8-bit images \(0\.\.255\) first, "
         r"x\.astype\(jnp\.float32\) / 255 \(0/1 masks: x\.astype\(jnp\.float32\)\)")


@pytest.mark.parametrize("name", ["vae", "beta_vae", "vqvae", "conditional_vae"])
def test_uint8_images_are_refused_by_every_entry_point(name: str) -> None:
    extra = {"parameters": {"embedding_dim": 2, "num_embeddings": 8}} if name == "vqvae" else {}
    model = create_model(tiny_config(name, **extra), rngs=nnx.Rngs(0))
    x = np.full((2, 12), 200, np.uint8)
    y = {"y": jnp.array([0, 1])} if name == "conditional_vae" else {}
    owner = type(model).__name__
    for call in (lambda: model.encode(jnp.asarray(x), **y), lambda: model(jnp.asarray(x), **y),
                 lambda: model.loss_fn(x=x, **y), lambda: model.reconstruct(jnp.asarray(x), **y)):
        with pytest.raises(TypeError, match=f"^{owner}: {UINT8}"):
            call()
    losses = model.loss_fn(x=x.astype(np.float32) / 255, **y)  # what the message says to do works
    assert bool(jnp.isfinite(losses["loss"]))


def test_refused_under_jit_and_other_integers_named() -> None:
    model = create_model(tiny_config("vae"), rngs=nnx.Rngs(0))

    @nnx.jit
    def loss(m: nnx.Module, x: jnp.ndarray) -> jnp.ndarray:
        return m.loss_fn(x=x)["loss"]

    with pytest.raises(TypeError, match=UINT8):
        loss(model, jnp.zeros((2, 12), jnp.uint8))
    with pytest.raises(TypeError, match=r"x has dtype int32; the model takes floats in \[0, 1\]: convert it, e\.g\. x\.astype"):
        model.encode(jnp.zeros((2, 12), jnp.int32))
    with pytest.raises(TypeError, match=r"z has dtype int32"):
        model.decode(jnp.zeros((2, 4), jnp.int32))
    assert bool(jnp.isfinite(loss(model, jnp.zeros((2, 12), jnp.float16))))  # floats of any width pass
