"""Evaluate a trained run on its test split: what ``artifex evaluate`` prints.

- every model: the test loss (−ELBO for the VAE family) and its terms, on the same (seeded, binarized) test
  split the trainer used;
- Gaussian-latent models: the importance-sampled NLL bound (IWAE, ``k`` samples, batched) and active units;
- VQ-VAE: normalized MSE of the reconstructions, codebook perplexity and codes used;
- conditional models: the accuracy of a small classifier (trained on the real training data once and cached
  in the run folder as ``classifier.npz``) at labelling class-conditional samples.

Example:
    >>> # report = evaluate_run(load_run("runs/demo"), k=1000)
    >>> # report["test"]["loss"], report["iwae_nll"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex_core.data.dataset import Dataset
from artifex_core.data.loading import load_dataset
from artifex_core.data.pipeline import host_splits
from artifex_core.training.pictures import is_vq_model, sample_images
from artifex_core.training.run import LoadedRun
from artifex_core.training.steps import make_eval_step

__all__ = ["evaluate_run", "test_loss"]


def _jitted(model: nnx.Module, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(model, *args)`` compiled over the model's state (its state changes are discarded)."""
    graphdef, state = nnx.split(model)
    compiled = jax.jit(lambda s, *args: fn(nnx.merge(graphdef, s, copy=True), *args))
    return lambda *args: compiled(state, *args)


def _batched(fn: Callable[..., Any], arrays: list[np.ndarray | None], batch_size: int) -> list[Any]:
    out = []
    n = len(arrays[0])  # type: ignore[arg-type]
    for start in range(0, n, batch_size):
        args = [None if a is None else jnp.asarray(a[start : start + batch_size]) for a in arrays]
        out.append(jax.device_get(fn(*args)))
    return out


def test_loss(
    model: nnx.Module, x: np.ndarray, y: np.ndarray | None, *, conditional: bool, batch_size: int = 1000
) -> dict[str, float]:
    """Mean ``loss_fn`` terms over ``x`` (eval mode, schedules finished), weighted by batch sizes."""
    model.eval()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    step = make_eval_step(graphdef, conditional)
    totals: dict[str, float] = {}
    for start in range(0, len(x), batch_size):
        xb = jnp.asarray(x[start : start + batch_size])
        yb = None if y is None else jnp.asarray(y[start : start + batch_size])
        m = jax.device_get(step(params, rest, xb, yb))
        for k, v in m.items():
            totals[k] = totals.get(k, 0.0) + float(v) * len(xb)
    return {k: v / len(x) for k, v in totals.items()}


def _test_split(
    loaded: LoadedRun, limit: int | None, dataset: Dataset | None
) -> tuple[Dataset, np.ndarray, np.ndarray | None]:
    cfg = loaded.train_config
    ds = dataset or load_dataset(cfg.dataset, limit=cfg.limit, **cfg.dataset_kwargs)
    binarize = cfg.resolved_binarize(loaded.model_config)
    _, x_test = host_splits(ds, binarize, cfg.binarize_seed)
    y_test = ds.test_labels
    if limit is not None:
        x_test = x_test[:limit]
        y_test = None if y_test is None else y_test[:limit]
    x = x_test.astype(np.float32) * np.float32(1 / 255) if x_test.dtype == np.uint8 else x_test.astype(np.float32)
    return ds, x, y_test


def evaluate_run(
    loaded: LoadedRun,
    *,
    dataset: Dataset | None = None,
    k: int = 1000,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 1000,
    samples_per_class: int = 100,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every metric that applies to the run's model; JSON-ready.

    Args:
        loaded: From :func:`artifex_core.training.run.load_run`.
        dataset: The data the run was trained on (default: loaded again from its train config).
        k: Importance samples of the NLL bound (0 skips it).
        limit: Evaluate on the first ``limit`` test examples only.
        seed: Seed of the IWAE samples and the conditional samples.
        batch_size: Examples per evaluation batch.
        samples_per_class: Conditional samples per class for the classifier accuracy.
        progress: Called with a short note before each slow part.
    """
    from artifex_core.evaluation import (
        active_units,
        classifier_accuracy,
        codes_used,
        load_or_train_classifier,
        model_iwae_nll,
        normalized_mse,
        perplexity,
    )

    note = progress or (lambda _msg: None)
    model, mcfg = loaded.model, loaded.model_config
    conditional = bool(mcfg.conditional)
    ds, x, y = _test_split(loaded, limit, dataset)
    report: dict[str, Any] = {
        "run_dir": str(loaded.run_dir.path),
        "model": mcfg.model,
        "dataset": ds.name,
        "checkpoint_epoch": loaded.epoch,
        "test_examples": int(len(x)),
    }
    times: dict[str, float] = {}
    t = time.perf_counter()
    note("test loss")
    report["test"] = test_loss(model, x, y if conditional else None, conditional=conditional, batch_size=batch_size)
    times["test_loss"] = time.perf_counter() - t
    model.eval()
    cond_y = y if conditional else None
    if is_vq_model(model):
        t = time.perf_counter()
        note("codebook usage and reconstructions")
        forward = _jitted(model, lambda m, xb: m(xb)["encoding_indices"])
        recon = _jitted(model, lambda m, xb: m.reconstruct(xb, deterministic=True))
        indices = np.concatenate([np.asarray(i).reshape(len(i), -1) for i in _batched(forward, [x], batch_size)])
        x_hat = np.concatenate(_batched(recon, [x], batch_size))
        report["vq"] = {
            "nmse": normalized_mse(x, x_hat),
            "perplexity": perplexity(indices, int(model.num_embeddings)),
            "codes_used": codes_used(indices),
            "num_embeddings": int(model.num_embeddings),
        }
        times["vq"] = time.perf_counter() - t
    else:
        t = time.perf_counter()
        note("active units")
        if conditional:
            enc = _jitted(model, lambda m, xb, yb: m.encode(xb, yb)[0])
            means = np.concatenate(_batched(enc, [x, cond_y], batch_size))
        else:
            enc = _jitted(model, lambda m, xb: m.encode(xb)[0])
            means = np.concatenate(_batched(enc, [x], batch_size))
        report["active_units"] = active_units(means.reshape(len(means), -1))
        report["latent_dim"] = int(mcfg.latent_dim)
        times["active_units"] = time.perf_counter() - t
        if k > 0:
            t = time.perf_counter()
            note(f"importance-sampled NLL (k={k})")
            kwargs: dict[str, Any] = {"key": jax.random.key(seed), "k": k}
            if conditional:
                kwargs["y"] = jnp.asarray(cond_y)
            report["iwae_nll"] = model_iwae_nll(model, jnp.asarray(x), **kwargs)
            report["iwae_k"] = k
            times["iwae_nll"] = time.perf_counter() - t
    if conditional and ds.train_labels is not None:
        t = time.perf_counter()
        note("classifier accuracy of conditional samples")
        clf, meta = load_or_train_classifier(
            loaded.run_dir.path / "classifier.npz", ds.x_train, ds.train_labels, num_classes=mcfg.num_classes,
            x_test=ds.x_test, y_test=ds.test_labels,
        )
        labels = np.repeat(np.arange(int(mcfg.num_classes or 0)), samples_per_class)
        samples = sample_images(model, len(labels), labels=labels, seed=seed)
        report["conditional"] = {
            "sample_accuracy": classifier_accuracy(clf, samples, labels),
            "classifier_test_accuracy": meta.get("test_accuracy"),
            "samples_per_class": samples_per_class,
            "classifier_cached": bool(meta.get("cached")),
        }
        times["classifier"] = time.perf_counter() - t
    if ds.name == "dsprites" and not conditional:
        t = time.perf_counter()
        note("disentanglement (MIG, FactorVAE) on procedural dSprites")
        from artifex_core.evaluation import dsprites_disentanglement

        encode = _jitted(model, lambda m, xb: m.encode(xb)[0])
        report["disentanglement"] = dsprites_disentanglement(lambda xb: encode(jnp.asarray(xb)), seed=seed)
        times["disentanglement"] = time.perf_counter() - t
    report["time_s"] = {name: round(v, 3) for name, v in times.items()}
    return report
