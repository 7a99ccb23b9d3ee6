"""Latent paths of ``interpolate`` and ``latent_traversal``: closed forms on flat and spatial latents."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from artifex_plugins.vae._paths import line_between, sweep_dim


def test_line_between_is_the_affine_path_with_both_endpoints() -> None:
    start, end = jnp.array([[0.0, 2.0]]), jnp.array([[4.0, -2.0]])
    path = line_between(start, end, 5)
    np.testing.assert_allclose(path, [[0, 2], [1, 1], [2, 0], [3, -1], [4, -2]], atol=1e-6)


def test_line_between_with_one_step_is_the_start() -> None:
    np.testing.assert_allclose(line_between(jnp.ones((1, 3)), jnp.zeros((1, 3)), 1), jnp.ones((1, 3)))


def test_line_between_broadcasts_over_spatial_latents() -> None:
    path = line_between(jnp.zeros((1, 2, 2, 3)), jnp.ones((1, 2, 2, 3)), 3)
    assert path.shape == (3, 2, 2, 3)
    np.testing.assert_allclose(path[1], 0.5)


def test_sweep_dim_sets_only_that_dim_of_the_first_latent() -> None:
    latent = jnp.array([[1.0, 2.0, 3.0], [9.0, 9.0, 9.0]])
    z = sweep_dim(latent, 2, (-1.0, 1.0), 3)
    np.testing.assert_allclose(z, [[1, 2, -1], [1, 2, 0], [1, 2, 1]])


def test_sweep_dim_sets_the_whole_map_of_a_spatial_latent_and_keeps_its_dtype() -> None:
    latent = jnp.zeros((1, 2, 2, 3), jnp.bfloat16)
    z = sweep_dim(latent, 0, (-2.0, 2.0), 2)
    assert z.dtype == jnp.bfloat16 and z.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(np.asarray(z[..., 0], np.float32), [[[-2, -2], [-2, -2]], [[2, 2], [2, 2]]])
    assert not np.asarray(z[..., 1:], np.float32).any()
