"""The run folder's pictures: samples, reconstructions, latent traversals or codebook usage.

What is drawn is asked of the model, never decided by its name:

- ``samples.png``: 64 samples (``model.sample``), 8 per row; a conditional model gets one row per class.
- ``reconstructions.png``: test images and their deterministic reconstructions (``model.reconstruct``),
  alternating rows of 8.
- ``codebook_usage.png``: for a model with a discrete latent, which declares it by a ``code_usage()`` method
  returning how often each code was used in training (drawn sorted, instead of traversals: sweeping one
  dimension of a quantized latent mostly shows one code).
- ``traversals.png``: otherwise, for a model with ``latent_traversal``: one row per latent dimension (the first
  10), the posterior mean of a test image with that dimension swept over [-3, 3] in 11 steps; each row is
  labelled with its dimension (``z0``, ``z1``, ...) in a margin on the left.

Grids are written with Pillow by :mod:`artifex_core._visualize`.

Example:
    >>> # paths = write_pictures(model, x_test[:32], y_test[:32], "runs/demo", num_classes=None)
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["class_grid", "code_usage", "picture_arrays", "sample_images", "save_pictures", "write_pictures"]

TRAVERSAL_DIMS = 10
TRAVERSAL_STEPS = 11
PER_CLASS = 10


def class_grid(num_classes: int, n: int | None = None, per_row: int | None = None) -> tuple[np.ndarray, int]:
    """Labels and row length of a conditional sample grid: one row per class, the same count for each.

    ``n`` samples (a multiple of ``num_classes``) or ``per_row`` per class, or by default ``PER_CLASS``
    (10 classes: a 10 x 10 grid). Returns ``(labels, per_row)``: ``labels[i]`` is the class of sample ``i``,
    row by row.

    Raises:
        ValueError: When ``n`` is not a whole number per class, or disagrees with ``per_row``.

    Example:
        >>> labels, per_row = class_grid(3, n=6)
        >>> labels.tolist(), per_row
        ([0, 0, 1, 1, 2, 2], 2)
        >>> class_grid(10)[0].shape
        (100,)
    """
    if num_classes < 1:
        raise ValueError(f"a conditional grid needs at least one class, got {num_classes}")
    if n is not None:
        if n % num_classes:
            below = max(num_classes, n - n % num_classes)
            raise ValueError(
                f"{n} samples do not fill one row per class: with {num_classes} classes give a multiple of "
                f"{num_classes} (e.g. {below} or {below + num_classes})"
            )
        if per_row is not None and per_row * num_classes != n:
            raise ValueError(
                f"{n} samples in rows of {per_row} do not give one row per class: "
                f"{num_classes} classes x {per_row} = {num_classes * per_row}"
            )
        per_row = n // num_classes
    per_row = PER_CLASS if per_row is None else per_row
    if per_row < 1:
        raise ValueError(f"a row needs at least one sample, got {per_row}")
    return np.repeat(np.arange(num_classes), per_row), per_row


def code_usage(model: Any) -> np.ndarray | None:
    """The model's code usage counts when it declares a discrete latent (a ``code_usage()`` method), else None.

    Example:
        >>> class Discrete:
        ...     def code_usage(self):
        ...         return [3, 0, 1]
        >>> code_usage(Discrete()).tolist(), code_usage(object())
        ([3, 0, 1], None)
    """
    method = getattr(model, "code_usage", None)
    if not callable(method):
        return None
    return np.asarray(method())


def _accepts(fn: Any, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _sample(model: Any, n: int, *, temperature: float = 1.0, labels: Any = None, seed: int = 0) -> Any:
    """``model.sample`` as :func:`sample_images` calls it, as the array it returns (traceable under ``jit``)."""
    import jax.numpy as jnp
    from flax import nnx

    kwargs: dict[str, Any] = {"temperature": temperature}
    if _accepts(model.sample, "rngs"):
        kwargs["rngs"] = nnx.Rngs(seed)
    if labels is not None:
        kwargs["y"] = jnp.asarray(labels, jnp.int32)
    return model.sample(n, **kwargs)


def sample_images(
    model: Any, n: int, *, temperature: float = 1.0, labels: Any = None, seed: int = 0
) -> np.ndarray:
    """``n`` samples in data space as NumPy, with class ``labels`` (an array of ``n``) for conditional models."""
    return np.asarray(_sample(model, n, temperature=temperature, labels=labels, seed=seed))


def _interleave(originals: np.ndarray, recons: np.ndarray, per_row: int) -> np.ndarray:
    rows = []
    for start in range(0, len(originals), per_row):
        rows += [originals[start : start + per_row], recons[start : start + per_row]]
    return np.concatenate(rows, axis=0)


def picture_arrays(
    model: Any,
    x: Any,
    y: Any | None,
    *,
    num_classes: int | None = None,
    seed: int = 0,
    per_row: int = 8,
) -> dict[str, Any]:
    """What the pictures of :func:`write_pictures` show, as arrays; written by :func:`save_pictures`.

    A function of the model's state (it switches the model to eval mode, and draws from the model's own RNG
    stream when its ``sample`` takes no ``rngs``), so it can run eagerly or traced under ``jax.jit`` over the
    model's split state (:class:`~artifex_core.training._painter.PicturePainter` does).

    Returns:
        ``samples``, ``originals`` (the test images reconstructed) and ``reconstructions``; then
        ``codebook_usage`` (a model with a discrete latent) or ``traversals`` (one row of
        ``TRAVERSAL_STEPS`` per latent dimension drawn, concatenated), or neither.

    Example:
        >>> # arrays = picture_arrays(model, x_test[:32], None); save_pictures(arrays, "runs/demo")
    """
    import jax.numpy as jnp

    model.eval()
    out: dict[str, Any] = {}
    conditional = num_classes is not None
    if num_classes is not None:
        labels, _ = class_grid(num_classes, per_row=per_row)
        out["samples"] = _sample(model, len(labels), labels=labels, seed=seed)
    else:
        out["samples"] = _sample(model, per_row * per_row, seed=seed)

    xs = jnp.asarray(x[: 4 * per_row], jnp.float32)
    kwargs: dict[str, Any] = {"deterministic": True}
    if conditional and y is not None:
        kwargs["y"] = jnp.asarray(y[: len(xs)], jnp.int32)
    out["originals"], out["reconstructions"] = xs, model.reconstruct(xs, **kwargs)

    usage = getattr(model, "code_usage", None)
    if callable(usage):
        out["codebook_usage"] = jnp.asarray(usage())
    elif hasattr(model, "latent_traversal"):
        latent_dim = int(getattr(model, "latent_dim", TRAVERSAL_DIMS))
        trav_kwargs: dict[str, Any] = {}
        if conditional and y is not None and _accepts(model.latent_traversal, "y"):
            trav_kwargs["y"] = jnp.asarray(y[:1], jnp.int32)
        rows = [
            model.latent_traversal(xs[0], d, (-3.0, 3.0), TRAVERSAL_STEPS, **trav_kwargs)
            for d in range(min(latent_dim, TRAVERSAL_DIMS))
        ]
        if rows:
            out["traversals"] = jnp.concatenate(rows)
    return out


def save_pictures(arrays: Mapping[str, Any], out_dir: str | Path, *, per_row: int = 8) -> list[Path]:
    """Write :func:`picture_arrays`' arrays as the run folder's PNGs (atomically); returns their paths.

    Example:
        >>> import tempfile
        >>> grey = np.full((4, 2, 2, 1), 0.5)
        >>> paths = save_pictures({"samples": grey, "originals": grey, "reconstructions": grey},
        ...                       tempfile.mkdtemp(), per_row=2)
        >>> [p.name for p in paths]
        ['samples.png', 'reconstructions.png']
    """
    from artifex_core._visualize import save_codebook_usage, save_image_grid

    out = Path(out_dir)
    paths = [save_image_grid(np.asarray(arrays["samples"]), out / "samples.png", nrow=per_row)]
    grid = _interleave(np.asarray(arrays["originals"]), np.asarray(arrays["reconstructions"]), per_row)
    paths.append(save_image_grid(grid, out / "reconstructions.png", nrow=per_row))
    if "codebook_usage" in arrays:
        paths.append(save_codebook_usage(np.asarray(arrays["codebook_usage"]), out / "codebook_usage.png"))
    elif "traversals" in arrays:
        traversals = np.asarray(arrays["traversals"])
        rows = len(traversals) // TRAVERSAL_STEPS
        paths.append(
            save_image_grid(traversals, out / "traversals.png", nrow=TRAVERSAL_STEPS,
                            row_labels=[f"z{d}" for d in range(rows)])
        )
    return paths


def write_pictures(
    model: Any,
    x: np.ndarray,
    y: np.ndarray | None,
    out_dir: str | Path,
    *,
    num_classes: int | None = None,
    seed: int = 0,
    per_row: int = 8,
) -> list[Path]:
    """Write the pictures of a trained model into ``out_dir``; returns their paths.

    Computed eagerly (:func:`picture_arrays`), then written (:func:`save_pictures`). A training run draws
    the same pictures with one compiled call per epoch instead
    (:class:`~artifex_core.training._painter.PicturePainter`).

    Args:
        model: A trained model (switched to eval mode here, and back to train mode at the end).
        x: Test images in [0, 1] (at least one; 32 are used for reconstructions).
        y: Their labels (needed when ``num_classes`` is given).
        out_dir: The run folder.
        num_classes: Set for conditional models: samples get one row per class, reconstructions use ``y``.
        seed: Seed of the samples.
        per_row: Images per row.
    """
    arrays = picture_arrays(model, x, y, num_classes=num_classes, seed=seed, per_row=per_row)
    paths = save_pictures(arrays, out_dir, per_row=per_row)
    model.train()
    return paths
