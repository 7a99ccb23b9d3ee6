"""The model-agnostic trainer: device-resident or streamed data, a jitted step, evaluation, checkpoints, resume.

It needs only the model contract: ``model.train()`` / ``model.eval()`` and
``model.loss_fn(batch=..., step=...) -> {"loss": ..., ...}`` (``batch={"x", "y"}`` for conditional models).
A trainer is built from a :class:`~artifex_core.training.FitPlan` (or a train config and a dataset, which
are planned on the spot) and makes all of its state when constructed; :meth:`Trainer.fit` trains, and can be
called again to continue. An epoch's dispatches of the jitted step are :mod:`~artifex_core.training._epoch`'s.

Example:
    >>> # from artifex_core import ModelConfig, create_model
    >>> # model = create_model(ModelConfig(input_dim=(28, 28, 1)), rngs=nnx.Rngs(0))
    >>> # trainer = Trainer(model, TrainConfig(epochs=1), load_dataset("mnist"), run_dir="runs/demo")
    >>> # trainer.fit().final["test"]["loss"]
    >>> # trainer.fit(epochs=2).final["epoch"]  # two more: 3
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from artifex_core.data._dataset import Dataset
from artifex_core.data._feeding import HostFeeder, eval_batches
from artifex_core.data._pipeline import DeviceSplit, host_splits, put_split
from artifex_core.training._callbacks import Callback, FitResult
from artifex_core.training._checkpoint import Checkpointer
from artifex_core.training._manifest import CheckpointError
from artifex_core.training._config import TrainConfig
from artifex_core.training._epoch import run_epoch
from artifex_core.training._loggers import JsonlLogger, LoggerGroup
from artifex_core.training._groups import optimizer_groups_of
from artifex_core.training._optim import make_optimizer, make_schedule
from artifex_core.training._plan import FitPlan, plan_fit
from artifex_core.training._run_dir import RunDir
from artifex_core.training._run_lock import holding_lock, holds_lock
from artifex_core.training._sharding import batch_sharding, is_main_process, put_on_mesh, replicated_sharding
from artifex_core.training._state_paths import legacy_state_paths
from artifex_core.training._steps import StepSpec, make_steps

__all__ = ["Callback", "FitResult", "NonFiniteLossError", "Trainer", "has_convolutions"]


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the run stopped. ``step`` is the first bad global step."""

    def __init__(self, message: str, step: int, epoch: int, last_good_epoch: int | None) -> None:
        super().__init__(message)
        self.step, self.epoch, self.last_good_epoch = step, epoch, last_good_epoch


def has_convolutions(model: nnx.Module) -> bool:
    """Whether ``model`` contains a convolution (these run slower inside ``lax.scan`` on CPU)."""
    return any(isinstance(node, (nnx.Conv, nnx.ConvTranspose)) for _, node in nnx.iter_graph(model))


class Trainer:
    """Train ``model`` as a :class:`~artifex_core.training.FitPlan` (or ``config`` on ``dataset``) says.

    Everything the training state is made of is made here: the splits on the devices, the model's state and
    the optimizer's, the step functions, the keys. :meth:`fit` only trains, and may be called again.

    Args:
        model: An NNX model following the contract above. Its state is taken now (later changes to the model
            are not seen); after :meth:`fit` it holds the trained state.
        config: The train config, or a :class:`~artifex_core.training.FitPlan` (then ``dataset``,
            ``run_dir``, ``conditional`` and ``devices`` come from the plan and must not be given). A config is
            planned here with :func:`~artifex_core.training.plan_fit`: without a model config,
            ``binarize="auto"`` means none (``run_training`` resolves it from the likelihood the model config
            declares).
        dataset: Train and test splits (labels required for ``conditional``); with a config only.
        run_dir: Folder for ``metrics.jsonl`` and ``checkpoints/`` (None: nothing written, no resume).
        conditional: Pass labels to the model (``batch={"x": x, "y": y}``).
        devices: Devices of the data-parallel mesh (default: all when ``config.data_parallel``, else the first).
        callbacks: :class:`Callback` objects, called in every process; an exception in one stops the run.
        loggers: :class:`~artifex_core.training.Logger` objects, called in the main process only, each
            isolated (one that raises is reported once and switched off, unless ``required``), with
            ``on_epoch_end`` before the epoch's checkpoint and ``close()`` at the end of every :meth:`fit`.
            With a ``run_dir``, a :class:`~artifex_core.training.JsonlLogger` (``metrics.jsonl``) is always
            among them, first.

    Raises:
        TrainConfigError: The config does not fit the data or the devices (see
            :func:`~artifex_core.training.plan_fit`), or the optimizer options are invalid.
        DatasetError: Bad data.
        TypeError: A plan given together with ``dataset``, ``run_dir``, ``conditional`` or ``devices``.
    """

    def __init__(
        self,
        model: nnx.Module,
        config: TrainConfig | FitPlan,
        dataset: Dataset | None = None,
        *,
        run_dir: str | Path | None = None,
        conditional: bool = False,
        devices: Sequence[jax.Device] | None = None,
        callbacks: Sequence[Callback] = (),
        loggers: Sequence[Callback] = (),
    ) -> None:
        plan = _fit_plan(config, dataset, run_dir=run_dir, conditional=conditional, devices=devices)
        cfg = plan.train_config
        self.plan = plan
        self.model, self.config, self.dataset = model, cfg, plan.dataset
        self.run = RunDir(plan.run_dir) if plan.run_dir is not None else None
        self.conditional, self.mesh, self.binarize = plan.conditional, plan.mesh, plan.binarize
        self.callbacks = list(callbacks)
        main = is_main_process()
        own = list(loggers) if main else []
        if self.run is not None and main and not any(isinstance(log, JsonlLogger) for log in own):
            own.insert(0, JsonlLogger(self.run.path))
        self.loggers = LoggerGroup(own)
        self.steps_per_epoch = plan.steps_per_epoch
        per_dispatch = cfg.steps_per_dispatch or (1 if has_convolutions(model) else 10)
        self.steps_per_dispatch = min(per_dispatch, self.steps_per_epoch)
        self.total_steps = cfg.epochs * self.steps_per_epoch
        self.step = 0
        self.epoch = 0
        self.elapsed_s = 0.0
        """Training time of every :meth:`fit` so far (and before the checkpoint resumed from)."""
        self.checkpointer: Checkpointer | None = None
        """The run folder's checkpoints while :meth:`fit` runs (None without a ``run_dir``, or between fits)."""
        # the data: on the devices (fast path), or on the host and streamed (see artifex_core.data._feeding)
        repl = replicated_sharding(self.mesh)
        self.data_placement = plan.data_placement
        x_train, x_test = host_splits(self.dataset, self.binarize, cfg.binarize_seed)
        bs = cfg.eval_batch_size
        self.train_split: DeviceSplit | None = None
        self.feeder: HostFeeder | None = None
        self._host_test = (x_test, self.dataset.test_labels)
        self.test_batches: list[tuple[jax.Array, jax.Array | None]] = []
        if self.data_placement == "stream":
            self.feeder = HostFeeder(
                x_train, self.dataset.train_labels, batch_size=cfg.batch_size,
                steps_per_dispatch=self.steps_per_dispatch, sharding=batch_sharding(self.mesh),
            )
        else:
            self.train_split = put_split(x_train, self.dataset.train_labels, repl)
            test = put_split(x_test, self.dataset.test_labels, repl)
            self.test_batches = [
                (test.x[i : i + bs], None if test.y is None else test.y[i : i + bs]) for i in range(0, test.size, bs)
            ]
        # the state, the optimizer and the steps
        groups = optimizer_groups_of(model)  # a model's own parameter groups (e.g. a discriminator), if any
        self.tx = make_optimizer(cfg, self.total_steps, groups)
        self.schedule = make_schedule(cfg, self.total_steps)
        spec = StepSpec(cfg.batch_size, self.conditional, self.binarize == "dynamic", batch_sharding(self.mesh),
                        groups=tuple(groups.items()))
        steps, self._state_leaves = make_steps(model, self.tx, spec, repl)
        self._graphdef, self._state_def = steps.graphdef, steps.state_def
        self._train_fn, self._eval_fn, self._stream_fn = steps.train, steps.evaluate, steps.stream
        root = jax.random.key(cfg.seed)
        self._order_key = jax.random.fold_in(root, 1)  # the stream path draws the same order on the default device
        self.shuffle_key = put_on_mesh(self._order_key, repl)
        self.binarize_key = put_on_mesh(jax.random.fold_in(root, 2), repl)

    # The training state lives as one flat list of arrays (what the jitted step takes and donates); the
    # ``nnx.State`` views below are rebuilt on access, outside the hot loop.
    def _set_state(self, params: Any, rest: Any, opt_state: Any) -> None:
        leaves, treedef = jax.tree.flatten((params, rest, opt_state))
        if treedef != self._state_def:  # the compiled step reads leaves in ``_state_def``'s order
            raise ValueError("the restored training state does not have the structure of this model's state")
        self._state_leaves = leaves

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
        batches: Iterable[tuple[jax.Array, jax.Array | None]] = self.test_batches
        if self.feeder is not None:
            x_test, y_test = self._host_test
            batches = eval_batches(x_test, y_test, self.config.eval_batch_size, batch_sharding(self.mesh))
        for x, y in batches:
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

    def fit(self, epochs: int | None = None, *, resume: bool = False) -> FitResult:
        """Train ``epochs`` more epochs from where the trainer is; call it again to continue.

        - ``fit()`` trains ``config.epochs`` epochs: epochs ``1..E`` the first time, ``E+1..2E`` the next.
        - ``fit(epochs=n)`` trains ``n`` epochs from the current one. Two ``fit(epochs=1)`` give exactly the
          parameters of one ``fit(epochs=2)``: the shuffling, binarization and RNG streams go by the global
          epoch and step, and the learning-rate schedule spans ``config.epochs`` (past it, its final value).
        - ``fit(resume=True)`` first restores the newest good checkpoint of the run folder (epoch ``k``; a
          damaged newer one is moved to ``checkpoints.damaged/`` with one warning), then trains up to
          ``config.epochs`` in total (none when the run had finished), or ``epochs`` more when given. Without
          a checkpoint it trains from where the trainer is.

        With a ``run_dir``, the folder is checked first (:meth:`RunDir.check_trainable`: a foreign folder is
        refused before anything is written; a trainer that has trained may continue in its own folder), then
        locked and its checkpoints opened for the whole call; when this process holds the lock already (as
        :func:`~artifex_core.training.run_plan` does, having checked the folder), it is used as it is.
        ``metrics.jsonl`` keeps only the rows up to the epoch this call starts from, so its epochs are strictly
        increasing whatever the moment of a crash. The loggers are closed at the end of every call.

        Returns:
            The records of the epochs this call trained; the model holds the final state.

        Raises:
            ValueError: ``epochs`` is negative.
            NonFiniteLossError: The loss became NaN/inf (the message names the step; checkpoints are kept).
            RunDirError: The folder is not trainable (foreign, trained without ``resume``, or locked).
            CheckpointError: ``resume`` found checkpoints but none is usable.
        """
        if epochs is not None and epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        if self.run is None or not is_main_process() or holds_lock(self.run.path):
            return self._fit(epochs, resume)  # nothing to guard, or the lock's holder checked and marked it
        self.run.check_trainable(resume=resume or self.epoch > 0)
        with holding_lock(self.run.path):
            self.run.write_marker()
            return self._fit(epochs, resume)

    def _restore(self) -> None:
        """Continue from the newest good checkpoint (quarantining damaged newer ones), if there is one."""
        ckpt = self.checkpointer
        if self.run is None or ckpt is None or not ckpt.epochs():
            return
        try:
            _, state, meta, damaged = ckpt.restore_first_good(
                self.state(), legacy_paths=legacy_state_paths(self.model)
            )
        except CheckpointError as exc:
            raise CheckpointError(f"cannot resume run folder {str(self.run.path)!r}: {exc}") from None
        if damaged and is_main_process():
            ckpt.quarantine(damaged)
        self._set_state(state["params"], state["rest"], state["opt_state"])
        self.epoch, self.step = int(meta["epoch"]), int(meta["step"])
        self.elapsed_s = float(meta.get("elapsed_s", 0.0))

    def _fit(self, epochs: int | None, resume: bool) -> FitResult:
        cfg = self.config
        self.checkpointer = Checkpointer(self.run.checkpoints, keep=cfg.keep_checkpoints) if self.run else None
        try:
            if resume:
                self._restore()
            if epochs is not None:
                last = self.epoch + epochs
            else:
                last = cfg.epochs if resume else self.epoch + cfg.epochs
            result = FitResult(start_epoch=self.epoch)
            # the callbacks first: the run's config.json segment is written before the loggers read it
            for cb in self.callbacks:
                cb.on_fit_start(self, self.epoch)
            # jsonl drops the rows past the epoch this call starts from (all of them for a fresh run)
            self.loggers.call("on_fit_start", self, self.epoch)
            elapsed_before, start = self.elapsed_s, time.perf_counter()
            while self.epoch < last:
                self.epoch += 1
                t0 = time.perf_counter()
                train_metrics = run_epoch(self)
                t1 = time.perf_counter()
                test_metrics = self.evaluate()
                self._check_finite(np.array([test_metrics.get("loss", 0.0)]), self.step, "test")
                t2 = time.perf_counter()
                self.elapsed_s = elapsed_before + t2 - start
                record = {
                    "epoch": self.epoch,
                    "step": self.step,
                    "train": train_metrics,
                    "test": test_metrics,
                    "lr": float(self.schedule(self.step)),
                    "epoch_time_s": round(t1 - t0, 4),
                    "eval_time_s": round(t2 - t1, 4),
                    "examples_per_s": round(self.steps_per_epoch * cfg.batch_size / max(t1 - t0, 1e-9), 1),
                    "elapsed_s": round(self.elapsed_s, 3),
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
            self.elapsed_s = elapsed_before + time.perf_counter() - start
            result.elapsed_s = self.elapsed_s
            result.best_epoch = self.checkpointer.best_epoch() if self.checkpointer is not None else None
            # copies: the next fit() donates the trainer's buffers, the model keeps its own
            params, rest, _ = put_on_mesh(self._get_state(), replicated_sharding(self.mesh), may_alias=False)
            nnx.update(self.model, params, rest)
            for cb in self.callbacks:
                cb.on_fit_end(self, result)
            self.loggers.call("on_fit_end", self, result)
            return result
        finally:
            try:
                if self.checkpointer is not None:
                    self.checkpointer.close()
                    self.checkpointer = None
            finally:
                self.loggers.close()


def _fit_plan(
    config: TrainConfig | FitPlan,
    dataset: Dataset | None,
    *,
    run_dir: str | Path | None,
    conditional: bool,
    devices: Sequence[jax.Device] | None,
) -> FitPlan:
    """The plan a :class:`Trainer` is built from: ``config`` itself, or ``config`` planned for ``dataset``."""
    if isinstance(config, FitPlan):
        given = [name for name, value in (("dataset", dataset), ("run_dir", run_dir), ("devices", devices))
                 if value is not None] + (["conditional"] if conditional else [])
        if given:
            raise TypeError(f"Trainer(model, plan) takes {', '.join(given)} from the plan; do not pass them")
        return config
    if dataset is None:
        raise TypeError("Trainer(model, config, dataset): a train config needs the dataset to train on")
    return plan_fit(config, dataset, conditional=conditional, run_dir=run_dir, devices=devices)
