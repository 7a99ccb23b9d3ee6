"""Memory and disk: estimate what a model needs before allocating it, and name resource errors in one line.

Example:
    >>> describe_resource_error(OSError(28, "No space left on device", "runs/x/metrics.jsonl"))
    "no space left on device while writing 'runs/x/metrics.jsonl'"
    >>> describe_resource_error(ValueError("a bug")) is None
    True
"""

from __future__ import annotations

import errno
import os
from typing import Any

__all__ = ["ResourceError", "available_memory", "check_model_fits", "describe_resource_error", "model_state_bytes"]

_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_GB = 1e9


class ResourceError(RuntimeError):
    """Not enough memory or disk for what was asked (the message says how much is needed)."""


def model_state_bytes(cfg: Any, seed: int = 0) -> int:
    """Bytes of every array of the model ``cfg`` describes, from shapes alone (nothing is allocated)."""
    import jax
    from flax import nnx

    from artifex_core._factory import create_model

    abstract = nnx.eval_shape(lambda: create_model(cfg, rngs=nnx.Rngs(seed)))
    leaves = jax.tree.leaves(nnx.state(abstract))
    return int(sum(x.size * x.dtype.itemsize for x in leaves if hasattr(x, "dtype") and hasattr(x, "size")))


def available_memory() -> int | None:
    """Bytes free on the first device: its allocator's limit on accelerators, ``MemAvailable`` on CPU."""
    import jax

    device = jax.local_devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - platforms without sysconf
        return None


def check_model_fits(cfg: Any, seed: int = 0, *, copies: float = 4.0, purpose: str = "training") -> int:
    """Raise before allocating when ``copies`` times the model's arrays exceed the free memory.

    Args:
        cfg: A :class:`~artifex_core.ModelConfig`.
        seed: The build seed (shapes do not depend on it).
        copies: How many model-sized sets of arrays the job holds (training with Adam: params, gradients
            and two moments, about 4).
        purpose: Named in the message.

    Returns:
        The estimated bytes needed.

    Raises:
        ResourceError: It cannot fit; the message gives the GB needed and available.
    """
    size = model_state_bytes(cfg, seed)
    need = int(size * copies)
    free = available_memory()
    if free is not None and need > free:
        raise ResourceError(
            f"model {cfg.model!r} has {size / _GB:.2f} GB of parameters and state; {purpose} needs about "
            f"{need / _GB:.1f} GB but only {free / _GB:.1f} GB is free: make it smaller (latent_dim, hidden_dims)"
        )
    return need


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in seen:
        seen.append(node)
        node = node.__cause__ or node.__context__
    return seen


def describe_resource_error(exc: BaseException) -> str | None:
    """One line for a full disk or an exhausted memory anywhere in ``exc``'s chain; None for other errors."""
    for err in _chain(exc):
        if isinstance(err, OSError) and err.errno in _DISK_ERRNOS:
            where = f" while writing {str(err.filename)!r}" if err.filename else ""
            return f"no space left on device{where}"
        if isinstance(err, MemoryError):
            return "out of memory (the host could not allocate an array)"
    for err in _chain(exc):
        text = str(err)
        if "No space left on device" in text or "Disk quota exceeded" in text:
            return "no space left on device (while writing a checkpoint)"
        if "RESOURCE_EXHAUSTED" in text or "Out of memory" in text or "out of memory" in text:
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            return f"out of device memory ({first[:120]})"
    return None
