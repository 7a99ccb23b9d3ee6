"""The plugin's dataset: procedural 8x8 "blobs" (a bright square at one of four corners), NumPy only."""

from __future__ import annotations

import numpy as np

from artifex_core.data import Dataset


def load_blobs(*, n_train: int = 256, n_test: int = 64, seed: int = 0) -> Dataset:
    """Images ``(8, 8, 1)`` in [0, 1], label = the corner of the blob (4 classes)."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 4, n)
        x = rng.random((n, 8, 8, 1)).astype(np.float32) * 0.1
        for i, corner in enumerate(y):
            r, c = divmod(int(corner), 2)
            x[i, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4, 0] = 0.9
        return x, y

    (x_train, y_train), (x_test, y_test) = split(n_train), split(n_test)
    return Dataset.from_arrays("blobs", x_train, y_train, x_test, y_test, info={"source": "artifex-goodplugin"})
