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
    assert report["mig_dlib"] == report["mig"]  # the estimator named; the old key kept
    assert list(report["mig_chen_per_factor"]) == ["scale", "orientation", "pos_x", "pos_y"]  # no shape (Chen)
    assert report["mig_chen"] == np.mean(list(report["mig_chen_per_factor"].values()))


def test_chen_estimator_scores_a_position_encoder_on_position_only():
    def position_encoder(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, _ = centroid_encoder(x)
        codes = np.stack([mean[:, 0], mean[:, 1], np.zeros(len(x))], axis=1)  # the third latent: its prior
        return codes, np.zeros_like(codes)  # unit posterior variances (the centroids' spacing is ~1.4 px)

    report = dsprites_disentanglement(position_encoder, num_examples=2000, factor_vae=False)
    chen = report["mig_chen_per_factor"]
    assert chen["pos_x"] > 0.4 and chen["pos_y"] > 0.4  # unit-variance posteriors blur the 32 positions
    assert chen["orientation"] < 0.05 and chen["scale"] < 0.1
    assert report["mig_per_factor"]["pos_x"] > 0.6  # disentanglement_lib's bins the means: no blur


def test_random_encoder_scores_near_zero_and_chance():
    rng = np.random.default_rng(0)
    report = dsprites_disentanglement(lambda x: rng.normal(size=(len(x), 4)), num_examples=2000,
                                      factor_vae_train=100, factor_vae_eval=100)
    assert report["mig"] < 0.05
    assert report["factor_vae"] < 0.2 + 0.15  # chance is 1 / 5 factors
    assert report["mig_chen"] is None  # no log-variances: Chen et al.'s estimator needs the posterior
    assert set(report) == {"mig", "mig_dlib", "mig_per_factor", "mig_chen", "mig_chen_per_factor", "num_examples",
                           "factor_vae", "factor_vae_active_dims"}


def test_same_seed_same_report():
    a = dsprites_disentanglement(centroid_encoder, num_examples=500, factor_vae=False, seed=3)
    b = dsprites_disentanglement(centroid_encoder, num_examples=500, factor_vae=False, seed=3)
    assert a == b and "factor_vae" not in a
