"""Resource errors are named in one line; a model too big for memory is refused before allocating."""

from __future__ import annotations

import errno

import pytest

from artifex_core import ModelConfig
from artifex_core.training import _resources as resources
from artifex_core.training import ResourceError, check_model_fits
from artifex_core.training._resources import describe_resource_error


def test_resource_errors_are_recognised_through_the_chain() -> None:
    disk = OSError(errno.ENOSPC, "No space left on device", "/runs/x/checkpoints/3")
    assert describe_resource_error(disk) == "no space left on device while writing '/runs/x/checkpoints/3'"
    try:
        try:
            raise disk
        except OSError as inner:
            raise RuntimeError("wrapped by a library") from inner
    except RuntimeError as outer:
        assert describe_resource_error(outer).startswith("no space left on device")
    tensorstore = ValueError('RESOURCE_EXHAUSTED: Failed writing "x": No space left on device [os_error_code=28]')
    assert describe_resource_error(tensorstore) == "no space left on device (while writing a checkpoint)"
    oom = RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 98304 bytes.\nBufferAssignment...")
    assert describe_resource_error(oom).startswith("out of device memory (RESOURCE_EXHAUSTED: Out of memory")
    assert describe_resource_error(MemoryError()) .startswith("out of memory")
    assert describe_resource_error(ValueError("a bug")) is None


def test_the_estimate_counts_the_model_s_arrays_without_allocating() -> None:
    cfg = ModelConfig(input_dim=(10,), latent_dim=2, hidden_dims=(4,))
    # encoder 10*4+4, heads 2*(4*2+2), decoder 2*4+4 and 4*10+10 floats, plus the RNG state
    params = (10 * 4 + 4 + 2 * (4 * 2 + 2) + 2 * 4 + 4 + 4 * 10 + 10) * 4
    assert params <= resources.model_state_bytes(cfg) < params + 256
    huge = ModelConfig(input_dim=(784,), latent_dim=2, hidden_dims=(400_000, 400_000))
    h = 400_000  # encoder 784-h-h with two heads, decoder 2-h-h-784 mirrored
    floats = (784 * h + h) + (h * h + h) + 2 * (h * 2 + 2) + (2 * h + h) + (h * h + h) + (h * 784 + 784)
    gb = f"{floats * 4 / 1e9:.2f}".replace(".", r"\.")
    with pytest.raises(ResourceError, match=rf"has {gb} GB of parameters and state; training needs about \d+\.\d GB"):
        check_model_fits(huge)


def test_what_is_free_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ModelConfig(input_dim=(10,), latent_dim=2, hidden_dims=(4,))
    monkeypatch.setattr(resources, "available_memory", lambda: 100)
    with pytest.raises(ResourceError, match="only 0.0 GB is free"):
        check_model_fits(cfg, copies=4)
    monkeypatch.setattr(resources, "available_memory", lambda: None)  # unknown: never refuse
    assert check_model_fits(cfg, copies=4) > 0
