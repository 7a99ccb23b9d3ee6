"""What experiment trackers log, named once: scalar tags, flattened hyperparameters, the run's pictures.

The ``tensorboard`` logger and the ``artifex-mlflow`` plugin log the same names:

- per epoch (``metrics.jsonl``'s row, at its global ``step``): ``train/<term>`` and ``test/<term>`` (each
  loss term, and ``train/grad_norm``), ``lr``, and ``perf/examples_per_s``, ``perf/epoch_time_s``,
  ``perf/eval_time_s``, ``perf/elapsed_s``;
- per log interval (``on_log``, every ``log_every`` steps): ``train_log/<term>``, the mean since the previous
  interval, and ``train_log/lr`` when the trainer has a schedule;
- hyperparameters: the run's ``config.json`` flattened to ``model.<field>`` and ``train.<field>`` (and
  ``dataset.name``).

No JAX here.

Example:
    >>> record = {"epoch": 1, "step": 8, "train": {"loss": 2.5, "grad_norm": 1.0}, "test": {"loss": 2.7},
    ...           "lr": 0.001, "examples_per_s": 3200.0}
    >>> record_scalars(record)
    {'train/loss': 2.5, 'train/grad_norm': 1.0, 'test/loss': 2.7, 'lr': 0.001, 'perf/examples_per_s': 3200.0}
    >>> flatten({"model": {"latent_dim": 2, "hidden_dims": [8, 4], "beta": None}})
    {'model.latent_dim': 2, 'model.hidden_dims': '[8, 4]', 'model.beta': 'None'}
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PERF_KEYS", "flatten", "log_scalars", "read_pictures", "record_scalars", "run_params"]

PERF_KEYS = ("examples_per_s", "epoch_time_s", "eval_time_s", "elapsed_s")
"""The timing fields of a ``metrics.jsonl`` row, logged as ``perf/<key>``."""

Scalar = bool | int | float | str


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def record_scalars(record: Mapping[str, Any]) -> dict[str, float]:
    """The scalars of a ``metrics.jsonl`` row under their tags (non-finite and missing values left out).

    Example:
        >>> record_scalars({"train": {"kl_loss": 0.5}, "test": {"kl_loss": float("nan")}, "elapsed_s": 3})
        {'train/kl_loss': 0.5, 'perf/elapsed_s': 3.0}
    """
    out: dict[str, float] = {}
    for split in ("train", "test"):
        for term, value in (record.get(split) or {}).items():
            if (number := _number(value)) is not None:
                out[f"{split}/{term}"] = number
    if (lr := _number(record.get("lr"))) is not None:
        out["lr"] = lr
    for key in PERF_KEYS:
        if (number := _number(record.get(key))) is not None:
            out[f"perf/{key}"] = number
    return out


def log_scalars(trainer: Any, step: int, metrics: Mapping[str, float]) -> dict[str, float]:
    """The scalars of an ``on_log`` call under ``train_log/``, with ``train_log/lr`` from ``trainer.schedule``
    (when the trainer has one).

    Example:
        >>> log_scalars(None, 4, {"loss": 2.0, "grad_norm": 0.5})
        {'train_log/loss': 2.0, 'train_log/grad_norm': 0.5}
    """
    out = {f"train_log/{k}": n for k, v in metrics.items() if (n := _number(v)) is not None}
    schedule = getattr(trainer, "schedule", None)
    if callable(schedule):
        if (lr := _number(float(schedule(step)))) is not None:
            out["train_log/lr"] = lr
    return out


def _scalar(value: Any) -> Scalar:
    if isinstance(value, (bool, int, float, str)):
        return value
    if value is None:
        return "None"
    return json.dumps(value, sort_keys=True)


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Scalar]:
    """Nested mappings flattened to ``a.b.c`` keys; lists (JSON) and None (``"None"``) become strings.

    Example:
        >>> flatten({"train": {"lr": 0.001, "loggers": {}, "schedule": {"name": "cosine"}}})
        {'train.lr': 0.001, 'train.loggers': '{}', 'train.schedule.name': 'cosine'}
    """
    out: dict[str, Scalar] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = _scalar(value)
    return out


def run_params(run_dir: str | Path, trainer: Any = None) -> dict[str, Scalar]:
    """A run's hyperparameters: ``model.*`` and ``train.*`` from its ``config.json`` and ``dataset.name``;
    without a ``config.json`` (a bare :class:`~artifex_core.training.Trainer`), ``trainer.config``'s
    ``train.*``.

    Example:
        >>> import tempfile
        >>> from artifex_core.training import RunDir, TrainConfig
        >>> run = RunDir(tempfile.mkdtemp())
        >>> _ = run.write_config({"model": {"latent_dim": 2}, "train": {"lr": 0.01}, "dataset": {"name": "mnist"}})
        >>> run_params(run.path)
        {'model.latent_dim': 2, 'train.lr': 0.01, 'dataset.name': 'mnist'}
    """
    from artifex_core.training.run_dir import RunDir, RunDirError

    run = RunDir(run_dir)
    try:
        config = run.read_config() if run.config_path.is_file() else None
    except (RunDirError, ValueError, OSError):
        config = None
    if config is None:
        cfg = getattr(trainer, "config", None)
        return flatten({"train": cfg.model_dump(mode="json")}) if cfg is not None else {}
    params = flatten({"model": config.get("model") or {}, "train": config.get("train") or {}})
    dataset = config.get("dataset")
    if isinstance(dataset, Mapping) and "name" in dataset:
        params["dataset.name"] = _scalar(dataset["name"])
    return params


def read_pictures(paths: Iterable[str | Path]) -> dict[str, np.ndarray]:
    """The PNG pictures at ``paths`` as ``uint8`` ``(H, W, C)`` arrays, keyed by file stem (missing files
    are left out).

    Example:
        >>> import tempfile
        >>> from artifex_core.visualize import save_image_grid
        >>> p = save_image_grid(np.zeros((2, 3, 3)), Path(tempfile.mkdtemp()) / "samples.png", padding=0)
        >>> {k: v.shape for k, v in read_pictures([p, p.with_name("gone.png")]).items()}
        {'samples': (3, 6, 1)}
    """
    from PIL import Image

    out: dict[str, np.ndarray] = {}
    for path in map(Path, paths):
        if not path.is_file():
            continue
        with Image.open(path) as img:
            array = np.asarray(img.convert("RGB" if img.mode not in ("L", "RGB", "RGBA") else img.mode))
        out[path.stem] = array[..., None] if array.ndim == 2 else array
    return out
