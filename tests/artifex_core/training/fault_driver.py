"""Run the ``artifex`` CLI with a SIGKILL injected at a named point of a run.

Usage: ``python fault_driver.py SITE N artifex-args...``: the process kills itself (``kill -9``, no cleanup)
the N-th time it reaches SITE. Sites:

- ``config``: before ``config.json`` is replaced;
- ``log``: mid-epoch, when metrics are fetched from the device;
- ``metrics-before`` / ``metrics-after``: before / after ``metrics.jsonl`` is replaced;
- ``finalize``: inside orbax's checkpoint save, every file written, before the final rename;
- ``manifest``: before the checkpoint's manifest is renamed into place;
- ``pictures``: before a PNG is renamed into place.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

SITES = ("config", "log", "metrics-before", "metrics-after", "finalize", "manifest", "pictures")


def _killer(n: int) -> Callable[[], None]:
    count = [0]

    def hit() -> None:
        count[0] += 1
        if count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)

    return hit


def _wrap(owner: Any, name: str, hit: Callable[[], None], *, after: bool = False) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not after:
            hit()
        out = original(*args, **kwargs)
        if after:
            hit()
        return out

    setattr(owner, name, wrapper)


def arm(site: str, n: int) -> None:
    """Patch the code at ``site`` to kill the process on its ``n``-th visit."""
    from artifex_core import _visualize as visualize
    from artifex_core.training import _checkpoint as checkpoint, _trainer as trainer
    from artifex_core.training import RunDir

    hit = _killer(n)
    if site == "config":
        _wrap(RunDir, "write_config", hit)
    elif site == "log":
        _wrap(trainer.Trainer, "_check_finite", hit)
    elif site in ("metrics-before", "metrics-after"):
        _wrap(RunDir, "write_metrics", hit, after=site == "metrics-after")
    elif site == "finalize":
        from orbax.checkpoint._src.path import atomicity

        original = atomicity.AtomicRenameTemporaryPath.finalize

        async def finalize(self: Any) -> None:
            hit()
            await original(self)

        atomicity.AtomicRenameTemporaryPath.finalize = finalize  # type: ignore[method-assign]
    elif site == "manifest":
        _wrap(checkpoint, "atomic_write", hit)
    elif site == "pictures":
        _wrap(visualize, "atomic_write", hit)
    else:
        raise SystemExit(f"unknown site {site!r} (allowed: {', '.join(SITES)})")


if __name__ == "__main__":
    arm(sys.argv[1], int(sys.argv[2]))
    sys.argv = ["artifex", *sys.argv[3:]]
    from artifex_core.cli import main

    main()
