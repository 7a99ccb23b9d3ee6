"""Generating from a trained run with a registered :class:`~artifex_core.Sampler`, its fitted state cached.

A sampler that fits (``needs_fit``) is fitted once on the run's training images, as the model saw them (the
same split and binarization; ``dynamic`` binarization is drawn once with the run's seed), and its state is
written atomically to ``RUN/samplers/NAME.npz`` with a key: the sampler, its options and a fingerprint of the
restored parameters. A second ``artifex sample`` reads the state back instead of refitting; a changed
checkpoint (another epoch, a resumed run) or other options change the key, and the state is fitted again.

Example:
    >>> # loaded = load_run("runs/mnist")
    >>> # result = draw_samples(loaded, 64, sampler="gmm", options={"n_components": 10})
    >>> # result.images.shape, result.fitted    # ((64, 28, 28, 1), True); the next call: cached
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artifex_core._atomic import atomic_write
from artifex_core._entry import Entry
from artifex_core._name_registry import Registry
from artifex_core._registry import models, samplers
from artifex_core._sampler import Sampler, SamplerError, SamplerState, default_sampler_of

__all__ = ["SampleResult", "draw_samples", "make_sampler", "resolve_sampler", "sampler_cache_path"]

_KEY = "__artifex_sampler_key__"


@dataclass(frozen=True)
class SampleResult:
    """What :func:`draw_samples` returns.

    Attributes:
        images: The samples, NumPy, data space.
        sampler: The sampler's qualified id (``builtin:gmm``).
        options: Its options.
        fitted: Whether its state was fitted by this call (False: none needed, or read from the cache).
        state_path: Where its fitted state is cached (None: it fits nothing).
    """

    images: np.ndarray
    sampler: str
    options: dict[str, Any]
    fitted: bool
    state_path: Path | None


def resolve_sampler(name: str | None, model_name: str, model: Any = None, *, registry: Registry | None = None) -> Entry:
    """The sampler entry for ``name``, or the model's default when ``name`` is None.

    Args:
        name: A sampler name, alias or qualified id; None: the model's declared default (``prior``).
        model_name: The run's model name (its registry entry's ``meta`` may name a default).
        model: The model (its class may declare ``default_sampler``).
        registry: The samplers (default: the default host's).

    Raises:
        UnknownNameError: An unknown sampler, with close matches.
    """
    reg = samplers if registry is None else registry
    if name is None:
        try:
            meta = models.entry(model_name).meta
        except LookupError:
            meta = {}
        name = default_sampler_of(type(model) if model is not None else None, meta)
    return reg.entry(name)


def make_sampler(entry: Entry, options: Mapping[str, Any] | None = None) -> Sampler:
    """Construct the sampler of ``entry`` with ``options``.

    Raises:
        SamplerError: Not a :class:`Sampler` subclass, one that leaves an abstract method (``sample``)
            unimplemented, an option the sampler does not take (naming those it takes), or a bad value.
    """
    cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, Sampler)):
        raise SamplerError(f"sampler {entry.qualified_id!r} is not a Sampler subclass: {entry.target_path}")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise SamplerError(
            f"sampler {entry.qualified_id!r} ({entry.target_path}) does not implement {', '.join(missing)}()"
        )
    given = dict(options or {})
    allowed = sorted(_init_names(cls))
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise SamplerError(
            f"sampler {entry.name!r} has no option {unknown[0]!r} (allowed: {', '.join(allowed) or 'none'})"
        )
    try:
        return cls(**given)
    except (TypeError, ValueError) as exc:
        raise SamplerError(f"sampler {entry.name!r}: {exc}") from None


def _init_names(cls: type) -> list[str]:
    import inspect

    init: Any = cls.__init__  # type: ignore[misc]  # the class's own constructor, read for its keywords
    return [
        p.name
        for p in inspect.signature(init).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def sampler_cache_path(run_dir: str | Path, entry: Entry) -> Path:
    """``RUN/samplers/PLUGIN-NAME.npz``: where a fitted sampler's state is cached."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{entry.plugin.name}-{entry.name}")
    return Path(run_dir) / "samplers" / f"{stem}.npz"


def params_fingerprint(model: Any) -> str:
    """SHA-256 of the model's parameters (names, shapes, dtypes and bytes): changes with the checkpoint."""
    import jax
    from flax import nnx

    digest = hashlib.sha256()
    flat = jax.tree_util.tree_flatten_with_path(nnx.state(model, nnx.Param))[0]
    for path, leaf in flat:
        array = np.asarray(leaf)
        digest.update(f"{jax.tree_util.keystr(path)}|{array.shape}|{array.dtype}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _read_cache(path: Path, key: str) -> SamplerState | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if _KEY not in data.files or str(data[_KEY]) != key:
                return None
            return {name: np.asarray(data[name]) for name in data.files if name != _KEY}
    except (OSError, ValueError, EOFError):  # missing, truncated or not an npz: fit again
        return None


def _write_cache(path: Path, key: str, state: Mapping[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {_KEY: np.asarray(key), **{k: np.asarray(v) for k, v in state.items()}}
    np.savez(buffer, **arrays)
    atomic_write(path, buffer.getvalue())


def training_images(loaded: Any, *, limit: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The run's training images as the model saw them (``float32``) and their labels.

    ``dynamic`` binarization is drawn once, with the run's binarization seed.
    """
    from artifex_core.data._dataset import binarize_fixed
    from artifex_core.data._loading import load_dataset
    from artifex_core.data._pipeline import host_splits

    cfg = loaded.train_config
    ds = load_dataset(cfg.dataset, limit=cfg.limit, **cfg.dataset_kwargs)
    binarize = cfg.resolved_binarize(loaded.model_config)
    x_train, _ = host_splits(ds, binarize, cfg.binarize_seed)
    if binarize == "dynamic":
        x_train = binarize_fixed(np.asarray(x_train), cfg.binarize_seed)
    y_train = ds.train_labels
    if limit is not None:
        x_train = x_train[:limit]
        y_train = None if y_train is None else y_train[:limit]
    x_train = np.asarray(x_train)
    x = x_train.astype(np.float32) * np.float32(1 / 255) if x_train.dtype == np.uint8 else x_train.astype(np.float32)
    return x, None if y_train is None else np.asarray(y_train)


def draw_samples(
    loaded: Any,
    n: int,
    *,
    sampler: str | None = None,
    options: Mapping[str, Any] | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    labels: np.ndarray | None = None,
    refit: bool = False,
) -> SampleResult:
    """Draw ``n`` samples from a loaded run with a registered sampler (fitted once, then cached).

    Args:
        loaded: A :class:`~artifex_core.training.LoadedRun`.
        n: Number of samples.
        sampler: A sampler name; None: the model's default (see :func:`resolve_sampler`).
        options: The sampler's options (e.g. ``{"n_components": 10}``).
        seed: Sampling seed (the fit uses the run's own seed, so it is cached across sampling seeds).
        temperature: Scale of the latent noise (1: as fitted / the prior).
        labels: Classes of the samples, for conditional models.
        refit: Fit again even when a cached state matches.

    Raises:
        UnknownNameError: An unknown sampler.
        SamplerError: Options the sampler does not take, or a model it cannot serve.
    """
    entry = resolve_sampler(sampler, loaded.model_config.model, loaded.model)
    instance = make_sampler(entry, options)
    opts = instance.options()
    state: SamplerState | None = {}
    fitted, path = False, None
    if instance.needs_fit:
        path = sampler_cache_path(loaded.run_dir.path, entry)
        key = json.dumps(
            {"sampler": entry.qualified_id, "options": opts, "params": params_fingerprint(loaded.model),
             "epoch": loaded.epoch, "fit_seed": loaded.train_config.seed},
            sort_keys=True, default=str,
        )
        state = None if refit else _read_cache(path, key)
        if state is None:
            x_train, y_train = training_images(loaded)
            state = instance.fit(loaded.model, x_train, y_train=y_train, seed=loaded.train_config.seed)
            _write_cache(path, key, state)
            fitted = True
    images = instance.sample(loaded.model, n, state=state or {}, seed=seed, temperature=temperature, labels=labels)
    return SampleResult(np.asarray(images), entry.qualified_id, opts, fitted, path)
