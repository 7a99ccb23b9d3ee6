"""The on-device pipeline: epoch permutations, batch gathering, binarization modes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifex_core.data import Dataset, DatasetError
from artifex_core.data import (
    dynamic_binarize,
    epoch_permutation,
    gather_batch,
    host_splits,
    put_split,
    to_float,
)


def _dataset(n: int = 12) -> Dataset:
    x = (np.arange(n * 4) % 256).astype(np.uint8).reshape(n, 2, 2)
    return Dataset.from_arrays("toy", x, np.arange(n) % 3, x[:4], np.arange(4) % 3)


def test_epoch_permutation_is_seeded_per_epoch() -> None:
    key = jax.random.key(0)
    p0, p0b, p1 = (np.asarray(epoch_permutation(key, e, 50)) for e in (0, 0, 1))
    assert sorted(p0.tolist()) == list(range(50))
    np.testing.assert_array_equal(p0, p0b)
    assert not np.array_equal(p0, p1)
    assert not np.array_equal(p0, np.asarray(epoch_permutation(jax.random.key(1), 0, 50)))


def test_an_epoch_of_batches_covers_every_example_once() -> None:
    ds = _dataset(12)
    split = put_split(ds.train_images, ds.train_labels)
    perm = epoch_permutation(jax.random.key(3), 2, split.size)
    gather = jax.jit(gather_batch, static_argnums=3)
    xs, ys = zip(*(gather(split, perm, i, 4) for i in range(3)), strict=True)
    x = np.concatenate([np.asarray(b) for b in xs]).reshape(12, 4)
    y = np.concatenate([np.asarray(b) for b in ys])
    assert x.dtype == np.float32
    order = np.asarray(perm)
    np.testing.assert_allclose(x, ds.x_train.reshape(12, 4)[order], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(y, ds.train_labels[order])


def test_dynamic_binarization_draws_fresh_bits_per_step() -> None:
    x = jnp.full((64, 16), 0.25)
    key = jax.random.key(0)
    a, b, c = dynamic_binarize(key, 0, x), dynamic_binarize(key, 0, x), dynamic_binarize(key, 1, x)
    assert set(np.unique(np.asarray(a)).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    assert abs(float(jnp.mean(dynamic_binarize(key, 7, jnp.full((256, 256), 0.25)))) - 0.25) < 0.01


def test_binarize_modes() -> None:
    ds = _dataset()
    tr, te = host_splits(ds, "none")
    assert tr is ds.train_images and te is ds.test_images
    tr, te = host_splits(ds, "dynamic", seed=4)
    assert tr is ds.train_images
    assert set(np.unique(te).tolist()) <= {0, 255}
    np.testing.assert_array_equal(te, host_splits(ds, "dynamic", seed=4)[1])
    tr2, te2 = host_splits(ds, "fixed", seed=4)
    assert set(np.unique(tr2).tolist()) <= {0, 255} and set(np.unique(te2).tolist()) <= {0, 255}
    with pytest.raises(DatasetError, match="unknown binarize mode 'sometimes'"):
        host_splits(ds, "sometimes")  # type: ignore[arg-type]


def test_to_float_scales_uint8_only() -> None:
    assert float(to_float(jnp.array([255], jnp.uint8))[0]) == 1.0
    assert float(to_float(jnp.array([0.5]))[0]) == 0.5
