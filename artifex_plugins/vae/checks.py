"""Argument checks of the encoders, decoders and blocks: clear ``ValueError`` s naming the owner and value.

Example:
    >>> check_shape([28, 28, 1], "input_dim", "CNNEncoder", ndim=3)
    (28, 28, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from flax import nnx

__all__ = [
    "check_latent_dim",
    "check_positive_int",
    "check_shape",
    "hidden_dims_list",
    "require_hook",
    "require_rngs",
]


def require_rngs(rngs: nnx.Rngs | None, owner: str) -> nnx.Rngs:
    """Return ``rngs``, or raise a clear error when it is missing.

    Example:
        >>> require_rngs(None, "MLPDecoder")
        Traceback (most recent call last):
        ...
        ValueError: MLPDecoder: rngs is required (e.g. rngs=nnx.Rngs(0))
    """
    if rngs is None:
        raise ValueError(f"{owner}: rngs is required (e.g. rngs=nnx.Rngs(0))")
    return rngs


def _is_positive_int(value: Any) -> bool:
    return bool(not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value > 0)


def check_positive_int(value: Any, name: str, owner: str | None = None) -> int:
    """Validate a positive integer argument and return it as ``int``.

    Example:
        >>> check_positive_int(3, "kernel_size", "CNNEncoder")
        3
        >>> check_positive_int(0, "kernel_size", "CNNEncoder")
        Traceback (most recent call last):
        ...
        ValueError: CNNEncoder: kernel_size must be a positive integer, got 0
    """
    if not _is_positive_int(value):
        prefix = f"{owner}: " if owner else ""
        raise ValueError(f"{prefix}{name} must be a positive integer, got {value!r}")
    return int(value)


def check_latent_dim(latent_dim: Any, owner: str) -> int:
    """Validate a positive integer latent size.

    Example:
        >>> check_latent_dim(8, "X")
        8
    """
    return check_positive_int(latent_dim, "latent_dim", owner)


def hidden_dims_list(hidden_dims: Sequence[int], owner: str, *, allow_empty: bool = True) -> list[int]:
    """Validate ``hidden_dims`` (positive integers) and return them as a list, in the order given.

    Example:
        >>> hidden_dims_list((64, 32), "X")
        [64, 32]
    """
    if isinstance(hidden_dims, (str, bytes)) or not isinstance(hidden_dims, Sequence):
        raise ValueError(f"{owner}: hidden_dims must be a list of positive integers, got {hidden_dims!r}")
    dims = list(hidden_dims)
    if not all(_is_positive_int(d) for d in dims):
        raise ValueError(f"{owner}: hidden_dims must be positive integers, got {dims!r}")
    if not dims and not allow_empty:
        raise ValueError(f"{owner}: hidden_dims needs at least one entry (one per stride-2 stage)")
    return [int(d) for d in dims]


def check_shape(shape: Sequence[int] | None, name: str, owner: str, *, ndim: int | None = None) -> tuple[int, ...]:
    """Validate a per-example shape such as ``input_dim`` or ``output_dim`` and return it as a tuple.

    Example:
        >>> check_shape([28, 28, 1], "input_dim", "CNNEncoder", ndim=3)
        (28, 28, 1)
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if shape is None or isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not shape:
        raise ValueError(f"{owner}: {name} must be a non-empty tuple of positive integers, got {shape!r}")
    dims = tuple(shape)
    if not all(_is_positive_int(d) for d in dims):
        raise ValueError(f"{owner}: {name} must be positive integers, got {dims!r}")
    if ndim is not None and len(dims) != ndim:
        raise ValueError(f"{owner}: {name} must be (H, W, C) for images, got {dims!r}")
    return tuple(int(d) for d in dims)


def require_hook(cls: type, name: str) -> None:
    """Raise ``TypeError`` at class creation when ``cls`` (or a base) does not define ``name``.

    The shared bases of the encoders and decoders declare their hooks this way instead of as abstract
    methods (``nnx.Module``'s metaclass does not combine with ``abc.ABCMeta``).

    Example:
        >>> class Base:
        ...     def __init_subclass__(cls):
        ...         require_hook(cls, "_hook")
        >>> class Broken(Base):
        ...     pass
        Traceback (most recent call last):
        ...
        TypeError: Broken must define _hook
    """
    if not callable(getattr(cls, name, None)):
        raise TypeError(f"{cls.__name__} must define {name}")
