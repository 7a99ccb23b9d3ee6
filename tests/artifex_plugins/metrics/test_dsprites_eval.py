"""Disentanglement on procedural dSprites with hand-made encoders whose answer is known."""

from __future__ import annotations

import numpy as np

from artifex_plugins.metrics import dsprites_disentanglement


def centroid_encoder(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid row, centroid column and area: encodes pos_y, pos_x and (partly) scale, not orientation."""
    assert x.dtype == np.float32 and x.shape[1:] == (64, 64, 1)
    assert set(np.unique(x).tolist()) <= {0.0, 1.0}
    m = x[..., 0]
    rows, cols = np.arange(64)[None, :, None], np.arange(64)[None, None, :]
    area = m.sum(axis=(1, 2))
    mean = np.stack([(m * rows).sum((1, 2)) / area, (m * cols).sum((1, 2)) / area, area], axis=1)
    return mean, np.zeros_like(mean)


def test_position_encoder_scores_on_position_only():
    report = dsprites_disentanglement(centroid_encoder, num_examples=2000, factor_vae_train=100,
                                      factor_vae_eval=100)
    gaps = report["mig_per_factor"]
    assert list(gaps) == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    assert gaps["pos_x"] > 0.6 and gaps["pos_y"] > 0.6
    assert gaps["orientation"] < 0.1
    assert report["mig"] == np.mean(list(gaps.values()))
    assert report["factor_vae"] > 0.5 and report["factor_vae_active_dims"] == 3


def test_random_encoder_scores_near_zero_and_chance():
    rng = np.random.default_rng(0)
    report = dsprites_disentanglement(lambda x: rng.normal(size=(len(x), 4)), num_examples=2000,
                                      factor_vae_train=100, factor_vae_eval=100)
    assert report["mig"] < 0.05
    assert report["factor_vae"] < 0.2 + 0.15  # chance is 1 / 5 factors
    assert set(report) == {"mig", "mig_per_factor", "num_examples", "factor_vae", "factor_vae_active_dims"}


def test_same_seed_same_report():
    a = dsprites_disentanglement(centroid_encoder, num_examples=500, factor_vae=False, seed=3)
    b = dsprites_disentanglement(centroid_encoder, num_examples=500, factor_vae=False, seed=3)
    assert a == b and "factor_vae" not in a
