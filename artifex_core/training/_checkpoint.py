"""Checkpoints with orbax-checkpoint: atomic, the last N kept plus the best; never pickle.

A checkpoint (one per epoch, numbered by epoch) holds two items: ``state``, the arrays (model params, the
rest of the model state such as RNG counts and EMA codebooks, and the optimizer state), and ``meta``, JSON
(epoch, global step, seed, the epoch's metrics). Orbax writes into a temporary folder and renames it when
complete, so a killed run never leaves a half-written checkpoint behind. Typed PRNG keys are stored as
their raw ``uint32`` key data and re-wrapped on restore.

Saves are asynchronous (orbax's async ``CheckpointManager``): :meth:`Checkpointer.save` takes a device copy of
the state (the trainer's next step donates its buffers), starts the write and returns; a background thread
waits for orbax's commit (the atomic rename) and then writes the manifest. Training runs meanwhile. Every
other method, and the next save, first waits for the write in flight and re-raises its error, so a failed
write (a full disk) still ends the run with that error; a kill -9 mid-write leaves either orbax's temporary
folder (removed by the next writer) or a renamed checkpoint whose manifest is missing or complete, exactly as a
synchronous save would.

Each checkpoint also gets ``artifex-manifest.json`` (:mod:`~artifex_core.training._manifest`): the size and
SHA-256 of every file and the path, shape and dtype of every array. A restore verifies all of it before
reading (a checkpoint without a manifest, as artifex 0.1 wrote them, is verified by its structure and a full
read), so a truncated or garbled checkpoint is a :class:`CheckpointError` naming it, and
:meth:`Checkpointer.restore_first_good` falls back to the next one.

A checkpoint written before a model's code moved some of its arrays still restores: the restore methods take
``legacy_paths`` (see :mod:`~artifex_core.training._legacy_restore`).

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

import datetime as _dt
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from orbax.checkpoint.checkpoint_managers import preservation_policy as pp

from artifex_core._atomic import atomic_write
from artifex_core.training._legacy_restore import manifest_renames, restore_renamed
from artifex_core.training._manifest import MANIFEST, CheckpointError, compare, manifest_text, short_error, verify_files
from artifex_core.training._savable import from_savable, signature, to_savable
from artifex_core.training._state_paths import StatePath

__all__ = ["CheckpointWarning", "Checkpointer"]

QUARANTINE = "checkpoints.damaged"

# artifex reports checkpoint errors itself, in one line; orbax's own logging (and asyncio's, for the writes
# it abandons after an error) would repeat them as tracebacks.
for _name in ("absl", "orbax", "orbax.checkpoint", "asyncio"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was skipped in favour of an older one."""


class Checkpointer:
    """Save and restore training state per epoch in ``directory``.

    Args:
        directory: The ``checkpoints/`` folder of a run (created on first save).
        keep: How many of the latest checkpoints to keep; the best (lowest ``metric``) is kept too.
        read_only: Only read (``sample``/``evaluate``, possibly while a run writes): nothing is created,
            cleaned up or deleted.
        async_save: Write in the background (:meth:`save` returns once the write started; :meth:`wait`
            blocks until it and its manifest are on disk). False: :meth:`save` returns when both are.
    """

    def __init__(
        self, directory: str | Path, keep: int = 3, *, read_only: bool = False, async_save: bool = True
    ) -> None:
        self.directory = Path(directory).absolute()
        self.read_only = read_only
        self.async_save = async_save and not read_only
        self._pending: threading.Thread | None = None
        self._pending_error: BaseException | None = None
        policy = pp.AnyPreservationPolicy(
            [pp.LatestN(keep), pp.BestN(get_metric_fn=lambda m: m["loss"], reverse=True, n=1)]
        )
        options = ocp.CheckpointManagerOptions(
            enable_async_checkpointing=self.async_save,
            preservation_policy=None if read_only else policy,
            best_fn=lambda m: m["loss"],
            best_mode="min",
            create=not read_only,
            read_only=read_only,
            cleanup_tmp_directories=not read_only,  # a writer holds the run's lock: leftovers are a crash's
        )
        self._mgr = ocp.CheckpointManager(self.directory, options=options, item_names=("state", "meta"))

    def save(self, epoch: int, state: Any, meta: dict[str, Any], metric: float | None = None) -> None:
        """Write checkpoint ``epoch`` (replacing an existing one of that number) and prune old ones.

        Args:
            epoch: The checkpoint number.
            state: A pytree of arrays.
            meta: JSON-serializable facts.
            metric: Lower is better (the test loss); ranks the best checkpoint.

        Raises:
            OSError: The previous asynchronous write failed (a full disk, ...), or this one did (synchronous).
        """
        self.wait()
        if epoch in self._mgr.all_steps():
            self._mgr.delete(epoch)
        arrays = signature(state)
        savable = to_savable(state)
        if self.async_save:  # the write outlives this call; the trainer's next step donates the state's buffers
            savable = jax.tree.map(lambda x: jnp.array(x, copy=True) if isinstance(x, jax.Array) else x, savable)
        # A failed save (a full disk) raises (here, or from the next wait()) and leaves only orbax's temporary
        # folder, which the next writer removes (cleanup_tmp_directories); earlier checkpoints are untouched.
        self._mgr.save(
            epoch,
            args=ocp.args.Composite(state=ocp.args.StandardSave(savable), meta=ocp.args.JsonSave(meta)),
            metrics=None if metric is None else {"loss": float(metric)},
            force=True,
        )
        if not self.async_save:
            self._finish(epoch, arrays)
            return
        self._pending = threading.Thread(
            target=self._finish_in_background, args=(epoch, arrays), name=f"artifex-checkpoint-{epoch}", daemon=True
        )
        self._pending.start()

    def _finish(self, epoch: int, arrays: dict[str, list[Any]]) -> None:
        """Wait for orbax's commit of ``epoch``, then write its manifest (process 0)."""
        self._mgr.wait_until_finished()
        if jax.process_index() == 0:
            folder = self.directory / str(epoch)
            atomic_write(folder / MANIFEST, manifest_text(folder, epoch, arrays))

    def _finish_in_background(self, epoch: int, arrays: dict[str, list[Any]]) -> None:
        try:
            self._finish(epoch, arrays)
        except BaseException as exc:  # noqa: BLE001 - re-raised by wait() in the caller's thread
            self._pending_error = exc

    def wait(self) -> None:
        """Block until the write in flight (if any) and its manifest are on disk.

        Raises:
            OSError: The write failed (its error, as a synchronous save would have raised it).
        """
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.join()
        error, self._pending_error = self._pending_error, None
        if error is not None:
            raise error

    def epochs(self) -> list[int]:
        """The checkpoint numbers on disk, ascending."""
        self.wait()
        return sorted(self._mgr.all_steps())

    def latest_epoch(self) -> int | None:
        """The newest checkpoint number, or None."""
        self.wait()
        return self._mgr.latest_step()

    def best_epoch(self) -> int | None:
        """The checkpoint with the lowest metric, or None."""
        self.wait()
        return self._mgr.best_step()

    def verify(self, epoch: int, template: Any, legacy_paths: Mapping[StatePath, StatePath] | None = None) -> None:
        """Check checkpoint ``epoch`` against its manifest (files and checksums) and ``template``'s arrays.

        Args:
            epoch: The checkpoint number.
            template: The state it must fit (None: check the files only).
            legacy_paths: Old -> current path prefixes of the model's arrays; a checkpoint that fits after
                renaming passes (see :mod:`~artifex_core.training._state_paths`).

        Raises:
            CheckpointError: A file missing, truncated or changed, or arrays of another structure, shape or dtype.
        """
        self._check(epoch, template, legacy_paths)

    def _check(
        self, epoch: int, template: Any, legacy_paths: Mapping[StatePath, StatePath] | None
    ) -> dict[StatePath, StatePath] | None:
        """:meth:`verify`; returns the renames to apply when the manifest's arrays fit only after them."""
        self.wait()
        where = f"checkpoint {epoch} in {self.directory}"
        manifest = verify_files(self.directory / str(epoch), where)
        if manifest is None or template is None:
            return None
        arrays = manifest["arrays"]
        problem = compare(arrays, signature(template), "array")
        if problem is None:
            return None
        renames = manifest_renames(arrays, template, legacy_paths)
        if renames is not None:
            return renames
        raise CheckpointError(f"{where} does not fit this model: {problem}")

    def restore(
        self, epoch: int, template: Any, legacy_paths: Mapping[StatePath, StatePath] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Verify checkpoint ``epoch``, then restore it into arrays shaped, typed and sharded like ``template``.

        Args:
            epoch: The checkpoint number.
            template: The state to restore into.
            legacy_paths: Old -> current path prefixes of the model's arrays: a checkpoint of an older layout
                that fits after renaming is restored under the current names (see
                :mod:`~artifex_core.training._state_paths`).

        Returns:
            ``(state, meta)``.

        Raises:
            FileNotFoundError: No such checkpoint.
            CheckpointError: It is damaged or holds another structure (one line, naming it).
        """
        self.wait()
        if epoch not in self._mgr.all_steps():
            raise FileNotFoundError(f"no checkpoint {epoch} in {self.directory} (have: {self.epochs() or 'none'})")
        renames = self._check(epoch, template, legacy_paths)
        has_manifest = (self.directory / str(epoch) / MANIFEST).is_file()
        if renames is not None:
            return self._restore_renamed(epoch, template, renames)
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, to_savable(template))
        try:
            out = self._mgr.restore(
                epoch, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore())
            )
            state, meta = out["state"], dict(out["meta"])
            problem = compare(signature(state), signature(template), "array")
        except Exception as exc:  # noqa: BLE001 - any library failure here means an unreadable checkpoint
            if legacy_paths and not has_manifest:  # artifex 0.1: the structure is known only by reading it
                try:
                    return self._restore_renamed(epoch, template, None, legacy_paths)
                except CheckpointError:
                    pass
            verdict = "is damaged" if has_manifest else (
                "is damaged or does not fit this model"  # without a manifest the two look alike
            )
            raise CheckpointError(f"checkpoint {epoch} in {self.directory} {verdict}: {short_error(exc)}") from None
        if problem is not None:
            if legacy_paths and not has_manifest:
                return self._restore_renamed(epoch, template, None, legacy_paths)
            raise CheckpointError(f"checkpoint {epoch} in {self.directory} does not fit this model: {problem}")
        return from_savable(state, template), meta

    def _restore_renamed(
        self,
        epoch: int,
        template: Any,
        renames: Mapping[StatePath, StatePath] | None,
        legacy_paths: Mapping[StatePath, StatePath] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """:func:`~artifex_core.training._legacy_restore.restore_renamed` of checkpoint ``epoch``."""
        where = f"checkpoint {epoch} in {self.directory}"
        return restore_renamed(self._mgr, epoch, where, template, renames, legacy_paths)

    def restore_first_good(
        self,
        template: Any,
        candidates: Iterable[int] | None = None,
        legacy_paths: Mapping[StatePath, StatePath] | None = None,
    ) -> tuple[int, Any, dict[str, Any], list[int]]:
        """Restore the first checkpoint of ``candidates`` (default: newest first) that verifies.

        Skipped damaged checkpoints give one :class:`CheckpointWarning` naming them. ``legacy_paths`` is
        passed to :meth:`restore`.

        Returns:
            ``(epoch, state, meta, damaged)``: ``damaged`` lists the checkpoints skipped.

        Raises:
            CheckpointError: None is usable (one line naming the folder and each checkpoint's fault).
        """
        order = list(candidates) if candidates is not None else sorted(self.epochs(), reverse=True)
        faults: list[tuple[int, str]] = []
        for epoch in order:
            try:
                state, meta = self.restore(epoch, template, legacy_paths)
            except (CheckpointError, FileNotFoundError) as exc:
                faults.append((epoch, str(exc)))
                continue
            if faults:
                names = ", ".join(str(e) for e, _ in faults)
                reason = faults[0][1].split(": ", 1)[-1]
                noun = "checkpoint" if len(faults) == 1 else "checkpoints"
                warnings.warn(
                    f"skipped damaged {noun} {names} in {self.directory} ({reason}); using checkpoint {epoch}",
                    CheckpointWarning,
                    stacklevel=2,
                )
            return epoch, state, meta, [e for e, _ in faults]
        if not faults:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        details = "; ".join(f"{e}: {msg.split(': ', 1)[-1]}" for e, msg in faults)
        raise CheckpointError(f"no usable checkpoint in {self.directory} ({details})")

    def quarantine(self, epochs: Iterable[int]) -> list[Path]:
        """Move damaged checkpoints out of the way, to ``<run>/checkpoints.damaged/``, never deleting them."""
        if self.read_only:
            raise CheckpointError("a read-only Checkpointer cannot move checkpoints")
        self.wait()
        moved = []
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for epoch in epochs:
            source = self.directory / str(epoch)
            if source.is_dir():
                target = self.directory.parent / QUARANTINE / f"{epoch}-{stamp}-{os.getpid()}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(source), str(target))
                moved.append(target)
        if moved:
            self._mgr.reload()
        return moved

    def read_meta(self, epoch: int) -> dict[str, Any]:
        """The JSON item of checkpoint ``epoch`` without restoring arrays."""
        self.wait()
        out = self._mgr.restore(epoch, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
        return dict(out["meta"])

    def close(self) -> None:
        """Wait for the write in flight, then release the manager's resources (its error is raised after)."""
        try:
            self.wait()
        finally:
            self._mgr.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
