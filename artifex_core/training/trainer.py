"""The model-agnostic trainer: on-device data, one jitted step, evaluation, checkpoints, resume, NaN guard.

It needs only the model contract: ``model.train()`` / ``model.eval()`` and
``model.loss_fn(batch=..., step=...) -> {"loss": ..., ...}`` (``batch={"x", "y"}`` for conditional models).

Example:
    >>> # from artifex_core import ModelConfig, create_model
    >>> # model = create_model(ModelConfig(input_dim=(28, 28, 1)), rngs=nnx.Rngs(0))
    >>> # result = Trainer(model, TrainConfig(epochs=1), load_dataset("mnist"), run_dir="runs/demo").fit()
    >>> # result.final["test"]["loss"]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx
from jax.sharding import Mesh

from artifex_core.data.checks import check_training_data
from artifex_core.data.dataset import Dataset
from artifex_core.data.pipeline import epoch_permutation, host_splits, put_split
from artifex_core.training.callbacks import Callback, FitResult
from artifex_core.training.checkpoint import CheckpointError, Checkpointer
from artifex_core.training.state_paths import legacy_state_paths
from artifex_core.training.config import TrainConfig, TrainConfigError
from artifex_core.training.loggers import JsonlLogger, LoggerGroup
from artifex_core.training.optim import make_optimizer, make_schedule
from artifex_core.training.run_dir import RunDir
from artifex_core.training.run_lock import holding_lock
from artifex_core.training.sharding import batch_sharding, is_main_process, make_mesh, replicated_sharding
from artifex_core.training.steps import StepSpec, make_eval_step, make_flat_train_step, split_params

__all__ = ["Callback", "FitResult", "NonFiniteLossError", "Trainer", "check_setup", "has_convolutions"]


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the run stopped. ``step`` is the first bad global step."""

    def __init__(self, message: str, step: int, epoch: int, last_good_epoch: int | None) -> None:
        super().__init__(message)
        self.step, self.epoch, self.last_good_epoch = step, epoch, last_good_epoch


def has_convolutions(model: nnx.Module) -> bool:
    """Whether ``model`` contains a convolution (these run slower inside ``lax.scan`` on CPU)."""
    return any(isinstance(node, (nnx.Conv, nnx.ConvTranspose)) for _, node in nnx.iter_graph(model))


def check_setup(
    config: TrainConfig,
    dataset: Dataset,
    *,
    conditional: bool = False,
    devices: Sequence[jax.Device] | None = None,
    num_classes: int | None = None,
) -> Mesh:
    """Check that ``config`` fits ``dataset`` and the devices (before building anything); returns the mesh.

    The data are checked on the host too (:func:`~artifex_core.data.check_training_data`): labels in
    ``[0, num_classes)``, one per image, consistent shapes, no NaN or inf.

    Raises:
        TrainConfigError: Labels missing for a conditional model, a batch larger than the training split, or a
            batch that does not divide over the devices.
        DatasetError: Bad data (the message names the split, the index and the value).
    """
    if conditional and not dataset.has_labels:
        raise TrainConfigError(f"dataset {dataset.name!r} has no labels; a conditional model needs them")
    check_training_data(dataset, num_classes=num_classes, conditional=conditional)
    devs = list(devices) if devices is not None else jax.devices()
    mesh = make_mesh(devs if config.data_parallel else devs[:1])
    if config.batch_size % mesh.size:
        raise TrainConfigError(
            f"batch_size {config.batch_size} does not divide over {mesh.size} devices; "
            f"use a multiple of {mesh.size} or data_parallel=false"
        )
    if dataset.train_images.shape[0] < config.batch_size:
        raise TrainConfigError(
            f"batch_size {config.batch_size} is larger than the {dataset.train_images.shape[0]} training examples"
        )
    return mesh


def _mean(chunks: list[dict[str, np.ndarray]]) -> dict[str, float]:
    keys = chunks[0].keys() if chunks else ()
    return {k: float(np.mean(np.concatenate([np.atleast_1d(c[k]) for c in chunks]))) for k in keys}


class Trainer:
    """Train ``model`` on ``dataset`` as ``config`` says.

    Args:
        model: An NNX model following the contract above. After :meth:`fit` it holds the trained state.
        config: The train config. Pass a resolved ``binarize`` (``run_training`` resolves ``"auto"`` from the
            likelihood the model config declares, :func:`~artifex_core.training.run.resolve_train_config`);
            here, without a model config, ``"auto"`` means none.
        dataset: Train and test splits (labels required for ``conditional``).
        run_dir: Folder for ``metrics.jsonl`` and ``checkpoints/`` (None: nothing written, no resume).
        conditional: Pass labels to the model (``batch={"x": x, "y": y}``).
        devices: Devices of the data-parallel mesh (default: all when ``config.data_parallel``, else the first).
        callbacks: :class:`Callback` objects, called in every process; an exception in one stops the run.
        loggers: :class:`~artifex_core.training.Logger` objects, called in the main process only, each
            isolated (one that raises is reported once and switched off, unless ``required``), with
            ``on_epoch_end`` before the epoch's checkpoint and ``close()`` at the end. With a ``run_dir``, a
            :class:`~artifex_core.training.JsonlLogger` (``metrics.jsonl``) is always among them, first.
    """

    def __init__(
        self,
        model: nnx.Module,
        config: TrainConfig,
        dataset: Dataset,
        *,
        run_dir: str | Path | None = None,
        conditional: bool = False,
        devices: Sequence[jax.Device] | None = None,
        callbacks: Sequence[Callback] = (),
        loggers: Sequence[Callback] = (),
    ) -> None:
        self.model, self.config, self.dataset = model, config, dataset
        self.run = RunDir(run_dir) if run_dir is not None else None
        self.conditional = conditional
        self.callbacks = list(callbacks)
        main = is_main_process()
        own = list(loggers) if main else []
        if run_dir is not None and main and not any(isinstance(log, JsonlLogger) for log in own):
            own.insert(0, JsonlLogger(Path(run_dir)))
        self.loggers = LoggerGroup(own)
        self.mesh = check_setup(config, dataset, conditional=conditional, devices=devices)
        self.steps_per_epoch = dataset.train_images.shape[0] // config.batch_size
        self.binarize = config.resolved_binarize(None)  # "auto" is resolved by the caller, which knows the config
        per_dispatch = config.steps_per_dispatch or (1 if has_convolutions(model) else 10)
        self.steps_per_dispatch = min(per_dispatch, self.steps_per_epoch)
        self.total_steps = config.epochs * self.steps_per_epoch
        self.step = 0
        self.epoch = 0

    # -- setup --------------------------------------------------------------------------------
    def _setup(self) -> None:
        cfg, repl = self.config, replicated_sharding(self.mesh)
        x_train, x_test = host_splits(self.dataset, self.binarize, cfg.binarize_seed)
        self.train_split = put_split(x_train, self.dataset.train_labels, repl)
        test = put_split(x_test, self.dataset.test_labels, repl)
        bs = cfg.eval_batch_size
        self.test_batches = [
            (test.x[i : i + bs], None if test.y is None else test.y[i : i + bs]) for i in range(0, test.size, bs)
        ]
        self.model.eval()
        eval_graphdef = nnx.graphdef(self.model)
        self.model.train()
        graphdef, params, rest = split_params(self.model)
        self._graphdef = graphdef
        # Copies: the step donates its state buffers, the model object keeps its own until fit() updates it.
        params = jax.device_put(params, repl, may_alias=False)
        rest = jax.device_put(rest, repl, may_alias=False)
        self.tx = make_optimizer(cfg, self.total_steps)
        self.schedule = make_schedule(cfg, self.total_steps)
        self._set_state(params, rest, jax.device_put(self.tx.init(params), repl))
        spec = StepSpec(cfg.batch_size, self.conditional, self.binarize == "dynamic", batch_sharding(self.mesh))
        self._train_fn = make_flat_train_step(graphdef, self.tx, spec, self._state_def)
        self._eval_fn = make_eval_step(eval_graphdef, self.conditional, batch_sharding(self.mesh))
        root = jax.random.key(cfg.seed)
        self.shuffle_key = jax.device_put(jax.random.fold_in(root, 1), repl)
        self.binarize_key = jax.device_put(jax.random.fold_in(root, 2), repl)

    # The training state lives as one flat list of arrays (what the jitted step takes and donates); the
    # ``nnx.State`` views below are rebuilt on access, outside the hot loop.
    def _set_state(self, params: Any, rest: Any, opt_state: Any) -> None:
        leaves, treedef = jax.tree.flatten((params, rest, opt_state))
        known = getattr(self, "_state_def", None)
        if known is not None and treedef != known:  # the compiled step reads leaves in ``known``'s order
            raise ValueError("the restored training state does not have the structure of this model's state")
        self._state_leaves, self._state_def = leaves, treedef

    def _get_state(self) -> tuple[Any, Any, Any]:
        return jax.tree.unflatten(self._state_def, self._state_leaves)

    @property
    def params(self) -> Any:
        """The model's ``nnx.Param`` state (an ``nnx.State``)."""
        return self._get_state()[0]

    @property
    def rest(self) -> Any:
        """The rest of the model state (RNG counters, ...)."""
        return self._get_state()[1]

    @property
    def opt_state(self) -> Any:
        """The optimizer state."""
        return self._get_state()[2]

    def snapshot(self) -> nnx.Module:
        """A copy of the model holding the current training state (safe to use between steps)."""
        params, rest, _ = self._get_state()
        return nnx.merge(self._graphdef, params, rest, copy=True)

    def state(self) -> dict[str, Any]:
        """The training state that checkpoints hold: params, the rest of the model state, optimizer state."""
        params, rest, opt_state = self._get_state()
        return {"params": params, "rest": rest, "opt_state": opt_state}

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Mean loss terms over the test split (batched, jitted, ``step`` past every schedule)."""
        total = None
        count = 0
        params, rest, _ = self._get_state()
        for x, y in self.test_batches:
            m = self._eval_fn(params, rest, x, y)
            n = x.shape[0]
            weighted = {k: v * n for k, v in m.items()}
            total = weighted if total is None else {k: total[k] + weighted[k] for k in total}
            count += n
        host = jax.device_get(total) if total is not None else {}
        return {k: float(v) / count for k, v in host.items()}

    # -- training -----------------------------------------------------------------------------
    def _check_finite(self, losses: np.ndarray, first_step: int, where: str) -> None:
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size == 0:
            return
        step = first_step + int(bad[0])
        ckpt = self.checkpointer
        last_good = ckpt.latest_epoch() if ckpt is not None else None
        kept = (
            f"the last good checkpoint (epoch {last_good}) is kept in {ckpt.directory}"
            if ckpt is not None and last_good is not None
            else "no checkpoint had been written yet"
        )
        value = losses[bad[0]]
        raise NonFiniteLossError(
            f"{where} loss became {value} at step {step} (epoch {self.epoch}); training stopped and {kept}",
            step,
            self.epoch,
            last_good,
        )

    def _run_epoch(self) -> dict[str, float]:
        cfg = self.config
        perm = epoch_permutation(self.shuffle_key, self.epoch, self.train_split.size)
        perm = jax.device_put(perm, replicated_sharding(self.mesh))
        pending: list[tuple[dict[str, Any], int]] = []
        chunks: list[dict[str, np.ndarray]] = []
        pending_first = self.step
        index = 0
        while index < self.steps_per_epoch:
            k = min(self.steps_per_dispatch, self.steps_per_epoch - index)
            self._state_leaves, metrics = self._train_fn(
                self._state_leaves, self.train_split, perm, self.binarize_key, self.step, index, k,
                num_steps=self.steps_per_dispatch,
            )
            pending.append((metrics, k))
            index += k
            self.step += k
            if self.step - pending_first >= cfg.log_every or index == self.steps_per_epoch:
                fetched = jax.device_get(pending)
                merged = {key: np.concatenate([f[key][:n] for f, n in fetched]) for key in fetched[0][0]}
                self._check_finite(merged["loss"], pending_first, "training")
                chunks.append(merged)
                pending, pending_first = [], self.step
                logged = {key: float(np.mean(v)) for key, v in merged.items()}
                for cb in self.callbacks:
                    cb.on_log(self, self.step, logged)
                self.loggers.call("on_log", self, self.step, logged)
        return _mean(chunks)

    def fit(self, *, resume: bool = False) -> FitResult:
        """Train for ``config.epochs`` epochs (continuing from the newest good checkpoint when ``resume``).

        With a ``run_dir``, the folder is checked first (:meth:`RunDir.check_trainable`: a foreign folder is
        refused before anything is written), then locked for the whole fit. ``metrics.jsonl`` keeps only the
        rows up to the checkpoint resumed from, so its epochs are strictly increasing whatever the moment of a
        crash. A damaged newest checkpoint is moved to ``checkpoints.damaged/`` with one warning, and the
        newest good one is resumed.

        Returns:
            The per-epoch records; the model holds the final state.

        Raises:
            NonFiniteLossError: The loss became NaN/inf (the message names the step; checkpoints are kept).
            RunDirError: The folder is not trainable (foreign, trained without ``resume``, or locked).
            CheckpointError: ``resume`` found checkpoints but none is usable.
        """
        if self.run is None or not is_main_process():
            return self._fit(resume)
        self.run.check_trainable(resume=resume)
        with holding_lock(self.run.path):
            self.run.write_marker()
            return self._fit(resume)

    def _fit(self, resume: bool) -> FitResult:
        cfg = self.config
        self._setup()
        self.checkpointer = Checkpointer(self.run.checkpoints, keep=cfg.keep_checkpoints) if self.run else None
        result = FitResult()
        elapsed_before = 0.0
        try:
            if resume and self.run is not None and self.checkpointer is not None and self.checkpointer.epochs():
                try:
                    _, state, meta, damaged = self.checkpointer.restore_first_good(
                        self.state(), legacy_paths=legacy_state_paths(self.model)
                    )
                except CheckpointError as exc:
                    raise CheckpointError(f"cannot resume run folder {str(self.run.path)!r}: {exc}") from None
                if damaged and is_main_process():
                    self.checkpointer.quarantine(damaged)
                self._set_state(state["params"], state["rest"], state["opt_state"])
                self.epoch, self.step = int(meta["epoch"]), int(meta["step"])
                elapsed_before = float(meta.get("elapsed_s", 0.0))
                result.start_epoch = self.epoch
            # jsonl drops the rows past the checkpoint resumed from (or all of them): see JsonlLogger
            self.loggers.call("on_fit_start", self, self.epoch)
            for cb in self.callbacks:
                cb.on_fit_start(self, self.epoch)
            start = time.perf_counter()
            while self.epoch < cfg.epochs:
                self.epoch += 1
                t0 = time.perf_counter()
                train_metrics = self._run_epoch()
                t1 = time.perf_counter()
                test_metrics = self.evaluate()
                self._check_finite(np.array([test_metrics.get("loss", 0.0)]), self.step, "test")
                t2 = time.perf_counter()
                record = {
                    "epoch": self.epoch,
                    "step": self.step,
                    "train": train_metrics,
                    "test": test_metrics,
                    "lr": float(self.schedule(self.step)),
                    "epoch_time_s": round(t1 - t0, 4),
                    "eval_time_s": round(t2 - t1, 4),
                    "examples_per_s": round(self.steps_per_epoch * cfg.batch_size / max(t1 - t0, 1e-9), 1),
                    "elapsed_s": round(elapsed_before + t2 - start, 3),
                }
                result.history.append(record)
                # before the checkpoint: a kill in between leaves a row that the resume's on_fit_start drops
                self.loggers.call("on_epoch_end", self, record)
                if self.checkpointer is not None:
                    meta = {"epoch": self.epoch, "step": self.step, "seed": cfg.seed, "elapsed_s": record["elapsed_s"],
                            "train": train_metrics, "test": test_metrics}
                    self.checkpointer.save(self.epoch, self.state(), meta, metric=test_metrics.get("loss"))
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
            result.elapsed_s = elapsed_before + time.perf_counter() - start
            result.best_epoch = self.checkpointer.best_epoch() if self.checkpointer is not None else None
            params, rest, _ = self._get_state()
            nnx.update(self.model, params, rest)
            for cb in self.callbacks:
                cb.on_fit_end(self, result)
            self.loggers.call("on_fit_end", self, result)
            return result
        finally:
            try:
                if self.checkpointer is not None:
                    self.checkpointer.close()
            finally:
                self.loggers.close()
