"""The compiled pictures (one jitted call per epoch) are the eager ones, pixel for pixel; compiled once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from artifex_core import ModelConfig, create_model
from artifex_core.training._painter import PicturePainter
from artifex_core.training._pictures import save_pictures, write_pictures
from toy_vae import ToyVAE

RNG = np.random.default_rng(0)
X = RNG.random((40, 6, 6, 1)).astype(np.float32)
Y = RNG.integers(0, 6, 40)


def pixels(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def host(state: Any) -> Any:
    """``state``'s arrays on the host (RNG keys as their data)."""
    def one(a: Any) -> np.ndarray:
        return np.asarray(jax.random.key_data(a) if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key) else a)

    return jax.tree.map(one, state)


def compare(model: nnx.Module, x: np.ndarray, y: np.ndarray | None, tmp_path: Path, **kw: Any) -> PicturePainter:
    painter = PicturePainter(x, y, seed=3, **kw)
    before = host(nnx.state(model))
    save_pictures(painter.arrays(model), tmp_path / "jit")
    assert painter.jitted
    jax.tree.map(np.testing.assert_array_equal, host(nnx.state(model)), before)  # the model is left as it was
    write_pictures(model, x, y, tmp_path / "eager", seed=3, **kw)
    jit, eager = pixels(tmp_path / "jit"), pixels(tmp_path / "eager")
    assert sorted(jit) == sorted(eager) and len(jit) == 3
    for name in jit:
        np.testing.assert_array_equal(jit[name], eager[name], err_msg=name)
    return painter


def test_the_toy_pictures_are_the_eager_ones(tmp_path: Path) -> None:
    compare(ToyVAE((6, 6, 1), latent_dim=3, rngs=nnx.Rngs(1)), X, None, tmp_path, num_classes=None)


def test_conditional_pictures_are_the_eager_ones(tmp_path: Path) -> None:
    cfg = ModelConfig(input_dim=(28, 28, 1), model="conditional_vae", hidden_dims=(16,), latent_dim=2,
                      embed_dim=4, conditional=True, num_classes=10)
    x, y = RNG.random((32, 28, 28, 1)).astype(np.float32), RNG.integers(0, 10, 32)
    compare(create_model(cfg, rngs=nnx.Rngs(2)), x, y, tmp_path, num_classes=10)


@pytest.mark.parametrize(
    "fields",
    [
        {"model": "vae", "hidden_dims": [16], "latent_dim": 3},
        {"model": "vae", "encoder": "cnn", "decoder": "cnn", "hidden_dims": [4, 8], "latent_dim": 12},
        {"model": "vqvae", "hidden_dims": [16], "latent_dim": 4,
         "parameters": {"num_embeddings": 8, "embedding_dim": 2}},
    ],
    ids=["mlp", "cnn", "vq"],
)
def test_the_built_in_models_pictures_are_the_eager_ones(fields: dict[str, Any], tmp_path: Path) -> None:
    model = create_model(ModelConfig(input_dim=(28, 28, 1), **fields), rngs=nnx.Rngs(0))
    x = RNG.random((32, 28, 28, 1)).astype(np.float32)
    compare(model, x, None, tmp_path, num_classes=None)


def test_compiled_once_and_reused(tmp_path: Path) -> None:
    model = ToyVAE((6, 6, 1), latent_dim=3, rngs=nnx.Rngs(1))
    painter = PicturePainter(X, None, num_classes=None, seed=0)
    first = painter.arrays(model)
    compiled = painter._compiled
    nnx.update(model, jax.tree.map(lambda p: p * 0.5, nnx.state(model, nnx.Param)))  # a later epoch's state
    second = painter.arrays(model)
    assert painter._compiled is compiled and compiled._cache_size() == 1
    assert not np.array_equal(first["samples"], second["samples"])


class Untraceable(ToyVAE):
    """Its samples need a concrete value (``float`` of a traced array): drawn eagerly."""

    def sample(self, n_samples: int = 1, **kwargs: Any) -> jax.Array:
        scale = float(self.out.bias[...].sum()) * 0 + 1.0
        return scale * super().sample(n_samples, **kwargs)


def test_a_model_that_cannot_be_traced_is_drawn_eagerly(tmp_path: Path) -> None:
    model = Untraceable((6, 6, 1), latent_dim=3, rngs=nnx.Rngs(1))
    painter = PicturePainter(X, None, num_classes=None, seed=3)
    arrays = painter.arrays(model)
    assert not painter.jitted and set(arrays) == {"samples", "originals", "reconstructions", "traversals"}
    save_pictures(arrays, tmp_path / "jit")
    write_pictures(model, X, None, tmp_path / "eager", seed=3)
    for name, image in pixels(tmp_path / "jit").items():
        np.testing.assert_array_equal(image, pixels(tmp_path / "eager")[name])
