"""Checkpoints with orbax-checkpoint: atomic, the last N kept plus the best; never pickle.

A checkpoint (one per epoch, numbered by epoch) holds two items: ``state``, the arrays (model params, the
rest of the model state such as RNG counts and EMA codebooks, and the optimizer state), and ``meta``, JSON
(epoch, global step, seed, the epoch's metrics). Orbax writes into a temporary folder and renames it when
complete, so a killed run never leaves a half-written checkpoint behind. Typed PRNG keys are stored as
their raw ``uint32`` key data and re-wrapped on restore.

Example:
    >>> import tempfile, jax.numpy as jnp
    >>> ckpt = Checkpointer(tempfile.mkdtemp(), keep=2)
    >>> ckpt.save(1, {"w": jnp.ones(2)}, {"epoch": 1}, metric=3.0)
    >>> state, meta = ckpt.restore(1, {"w": jnp.zeros(2)})
    >>> state["w"].tolist(), meta["epoch"]
    ([1.0, 1.0], 1)
    >>> ckpt.close()
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from orbax.checkpoint.checkpoint_managers import preservation_policy as pp

__all__ = ["Checkpointer", "from_savable", "to_savable"]

logging.getLogger("absl").setLevel(logging.ERROR)


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_savable(tree: Any) -> Any:
    """Replace typed PRNG keys by their ``uint32`` key data."""
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


def from_savable(tree: Any, template: Any) -> Any:
    """Re-wrap key data as typed keys wherever ``template`` (same structure) holds a key."""
    return jax.tree.map(
        lambda x, t: jax.random.wrap_key_data(x, impl=jax.random.key_impl(t)) if _is_key(t) else x, tree, template
    )


class Checkpointer:
    """Save and restore training state per epoch in ``directory``.

    Args:
        directory: The ``checkpoints/`` folder of a run (created on first save).
        keep: How many of the latest checkpoints to keep; the best (lowest ``metric``) is kept too.
    """

    def __init__(self, directory: str | Path, keep: int = 3) -> None:
        self.directory = Path(directory).absolute()
        policy = pp.AnyPreservationPolicy(
            [pp.LatestN(keep), pp.BestN(get_metric_fn=lambda m: m["loss"], reverse=True, n=1)]
        )
        options = ocp.CheckpointManagerOptions(
            enable_async_checkpointing=False,
            preservation_policy=policy,
            best_fn=lambda m: m["loss"],
            best_mode="min",
            create=True,
        )
        self._mgr = ocp.CheckpointManager(self.directory, options=options, item_names=("state", "meta"))

    def save(self, epoch: int, state: Any, meta: dict[str, Any], metric: float | None = None) -> None:
        """Write checkpoint ``epoch`` (replacing an existing one of that number) and prune old ones.

        Args:
            epoch: The checkpoint number.
            state: A pytree of arrays.
            meta: JSON-serializable facts.
            metric: Lower is better (the test loss); ranks the best checkpoint.
        """
        if epoch in self._mgr.all_steps():
            self._mgr.delete(epoch)
        self._mgr.save(
            epoch,
            args=ocp.args.Composite(state=ocp.args.StandardSave(to_savable(state)), meta=ocp.args.JsonSave(meta)),
            metrics=None if metric is None else {"loss": float(metric)},
            force=True,
        )
        self._mgr.wait_until_finished()

    def epochs(self) -> list[int]:
        """The checkpoint numbers on disk, ascending."""
        return sorted(self._mgr.all_steps())

    def latest_epoch(self) -> int | None:
        """The newest checkpoint number, or None."""
        return self._mgr.latest_step()

    def best_epoch(self) -> int | None:
        """The checkpoint with the lowest metric, or None."""
        return self._mgr.best_step()

    def restore(self, epoch: int, template: Any) -> tuple[Any, dict[str, Any]]:
        """Restore checkpoint ``epoch`` into arrays shaped, typed and sharded like ``template``.

        Returns:
            ``(state, meta)``.

        Raises:
            FileNotFoundError: No such checkpoint.
        """
        if epoch not in self._mgr.all_steps():
            raise FileNotFoundError(f"no checkpoint {epoch} in {self.directory} (have: {self.epochs() or 'none'})")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, to_savable(template))
        out = self._mgr.restore(
            epoch, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore())
        )
        return from_savable(out["state"], template), dict(out["meta"])

    def read_meta(self, epoch: int) -> dict[str, Any]:
        """The JSON item of checkpoint ``epoch`` without restoring arrays."""
        out = self._mgr.restore(epoch, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
        return dict(out["meta"])

    def close(self) -> None:
        """Release the manager's resources."""
        self._mgr.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
