"""Disentanglement of a model trained on procedural dSprites: MIG by two estimators and the FactorVAE metric.

The encoder sees freshly rendered images (``float32`` ``(B, 64, 64, 1)`` in {0, 1}) of factors drawn
uniformly at random, as disentanglement_lib does, so the score does not depend on the training split.

MIG is reported by both estimators, each named: ``mig_dlib`` (disentanglement_lib's: binned posterior means,
all five factors; also ``mig``, the key of earlier releases) and ``mig_chen`` (Chen et al.'s own code:
sampled posterior, entropies of the aggregate posterior, normalised by ``log`` of each factor's number of
values, over scale, orientation, x and y as their ``mutual_info_metric_shapes`` does; it needs the
posterior's log-variances).

Example:
    >>> import numpy as np
    >>> def centroid_encoder(x):  # a hand-made "encoder": centroid row and column, and the area
    ...     m = x.reshape(len(x), 64, 64)
    ...     rows, cols = np.arange(64)[None, :, None], np.arange(64)[None, None, :]
    ...     area = m.sum(axis=(1, 2))
    ...     return np.stack([(m * rows).sum((1, 2)) / area, (m * cols).sum((1, 2)) / area, area], 1)
    >>> report = dsprites_disentanglement(centroid_encoder, num_examples=2000, factor_vae=False)
    >>> report["mig_per_factor"]["pos_x"] > 0.6, report["mig_per_factor"]["orientation"] < 0.1
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from artifex_core.evaluation import EvalData, Metric
from artifex_plugins.data._dsprites import FACTOR_NAMES, FACTOR_SIZES, render_dsprites, sample_factors
from artifex_plugins.metrics._contract import GAUSSIAN, jitted, latent_type
from artifex_plugins.metrics._disentanglement import factor_vae_details, mig_details
from artifex_plugins.metrics._mig_chen import mig_chen_details

__all__ = ["CHEN_FACTORS", "DSpritesDisentanglement", "dsprites_disentanglement", "is_dsprites"]

CHEN_FACTORS: tuple[str, ...] = ("scale", "orientation", "pos_x", "pos_y")
"""The factors Chen et al.'s ``mutual_info_metric_shapes`` scores (not the shape)."""

DSPRITES_LOADER = "artifex_plugins.data._dsprites:load_dsprites_dataset"
"""The registered target of this plugin's dSprites dataset."""


def _posterior(
    encode_fn: Callable[[np.ndarray], Any], batch_size: int
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]:
    """Factors ``(n, 5)`` -> posterior means ``(n, D)`` and log-variances (None when the encoder gives none)."""

    def posterior(factors: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        means, log_vars = [], []
        for start in range(0, len(factors), batch_size):
            images = render_dsprites(factors[start : start + batch_size]).astype(np.float32)
            out = encode_fn(images)
            pair = isinstance(out, (tuple, list))
            means.append(np.asarray(out[0] if pair else out, np.float64).reshape(len(images), -1))
            if pair and len(out) > 1:
                log_vars.append(np.asarray(out[1], np.float64).reshape(len(images), -1))
        mean = np.concatenate(means, axis=0)
        log_var = np.concatenate(log_vars, axis=0) if len(log_vars) == len(means) else None
        return mean, log_var

    return posterior


def _representation(encode_fn: Callable[[np.ndarray], Any], batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """Factors ``(n, 5)`` -> posterior means ``(n, D)``: render, then encode in batches."""
    posterior = _posterior(encode_fn, batch_size)
    return lambda factors: posterior(factors)[0]


def dsprites_disentanglement(
    encode_fn: Callable[[np.ndarray], Any],
    *,
    num_examples: int = 10_000,
    seed: int = 0,
    batch_size: int = 256,
    num_bins: int = 20,
    factor_vae: bool = True,
    factor_vae_train: int = 800,
    factor_vae_eval: int = 800,
    chen: bool = True,
) -> dict[str, Any]:
    """MIG (and optionally the FactorVAE metric) of an encoder on procedural dSprites; JSON-ready.

    Args:
        encode_fn: ``images (B, 64, 64, 1) float32 -> (mean, log_var)`` or ``-> mean``; e.g. a jitted
            ``lambda x: model.encode(x)``. Means may be ``(B, D)`` or spatial (flattened).
        num_examples: Random factor combinations (with replacement) for MIG and the variance estimate.
        seed: Seed of the factor sampling.
        batch_size: Images rendered and encoded per call.
        num_bins: MIG's bins per latent dimension.
        factor_vae: Also compute the FactorVAE metric (``(factor_vae_train + factor_vae_eval) * 64``
            more images).
        factor_vae_train: Votes fitting the FactorVAE majority-vote classifier.
        factor_vae_eval: Votes it is scored on.
        chen: Also estimate MIG as Chen et al.'s code does (when ``encode_fn`` gives log-variances).

    Returns:
        ``{"mig", "mig_dlib", "mig_per_factor": {name: gap}, "num_examples"}`` (disentanglement_lib's
        estimator), ``"mig_chen"`` and ``"mig_chen_per_factor"`` with ``chen`` (None without log-variances),
        plus ``"factor_vae"`` and ``"factor_vae_active_dims"`` when ``factor_vae``.
    """
    posterior = _posterior(encode_fn, int(batch_size))
    represent = _representation(encode_fn, int(batch_size))
    factors = sample_factors(int(num_examples), seed=seed)
    means, log_vars = posterior(factors)
    details = mig_details(means, factors, num_bins=num_bins)
    report: dict[str, Any] = {
        "mig": details["mig"],
        "mig_dlib": details["mig"],
        "mig_per_factor": {name: float(g) for name, g in zip(FACTOR_NAMES, details["per_factor"])},
        "num_examples": int(num_examples),
    }
    if chen:
        report["mig_chen"], report["mig_chen_per_factor"] = None, None
        if log_vars is not None:
            cols = [FACTOR_NAMES.index(name) for name in CHEN_FACTORS]
            chen_details = mig_chen_details(
                means, log_vars, factors[:, cols], seed=seed, factor_sizes=[FACTOR_SIZES[c] for c in cols]
            )
            report["mig_chen"] = chen_details["mig"]
            report["mig_chen_per_factor"] = {
                name: float(g) for name, g in zip(CHEN_FACTORS, chen_details["per_factor"])
            }
    if factor_vae:
        fv = factor_vae_details(
            represent,
            FACTOR_SIZES,
            seed=seed + 1,
            num_train=factor_vae_train,
            num_eval=factor_vae_eval,
            num_variance_estimate=int(num_examples),
        )
        report["factor_vae"] = fv["eval_accuracy"]
        report["factor_vae_active_dims"] = fv["num_active_dims"]
    return report


def is_dsprites(dataset: str) -> bool:
    """Whether the dataset name (or qualified id) is registered as this plugin's procedural dSprites.

    Example:
        >>> is_dsprites("dsprites"), is_dsprites("mnist"), is_dsprites("runs/my.npz")
        (True, False, False)
    """
    from artifex_core._registry import datasets

    try:
        return datasets.entry(dataset).target_path == DSPRITES_LOADER
    except LookupError:
        return False


class DSpritesDisentanglement(Metric):
    """MIG (disentanglement_lib's and Chen et al.'s estimators) and the FactorVAE score on freshly rendered dSprites.

    Applies to unconditional runs on this plugin's ``dsprites`` dataset whose model declares a Gaussian
    latent. Figures as :func:`dsprites_disentanglement`.

    Args:
        num_examples: Random factor combinations for MIG and the variance estimate.
        factor_vae: Also compute the FactorVAE score.
        batch_size: Images rendered and encoded per call.

    Example:
        >>> DSpritesDisentanglement(num_examples=500, factor_vae=False).num_examples
        500
    """

    def __init__(self, *, num_examples: int = 10_000, factor_vae: bool = True, batch_size: int = 256) -> None:
        self.num_examples, self.factor_vae, self.batch_size = int(num_examples), bool(factor_vae), int(batch_size)

    def applies(self, run: Any) -> bool:
        """An unconditional Gaussian-latent model trained on dSprites."""
        return (
            not run.model_config.conditional
            and latent_type(run.model) == GAUSSIAN
            and is_dsprites(str(run.train_config.dataset))
        )

    def compute(self, run: Any, data: EvalData, *, seed: int) -> dict[str, Any]:
        """``mig`` / ``mig_dlib``, ``mig_chen``, their per-factor gaps, and with ``factor_vae`` the FactorVAE score."""
        import jax.numpy as jnp

        encode = jitted(run.model, lambda m, xb: tuple(m.encode(xb)[:2]))
        return dsprites_disentanglement(
            lambda xb: encode(jnp.asarray(xb)), num_examples=self.num_examples, seed=seed,
            batch_size=self.batch_size, factor_vae=self.factor_vae,
        )
