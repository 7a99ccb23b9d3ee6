"""Training loggers: the :class:`Logger` contract, the always-on :class:`JsonlLogger` and their dispatch.

A logger is a :class:`~artifex_core.training.Callback` registered by name in the ``loggers`` registry and
constructed by artifex as ``Logger(run_dir: Path, **kwargs)``. ``artifex train --logger NAME`` attaches
one; its keyword arguments come from the train config (``train.loggers: {NAME: {kwarg: value}}``), which
``config.json`` keeps, so ``--resume`` attaches the same loggers. Compared with a plain callback, a logger

- runs in the main process only;
- gets :meth:`~Logger.on_epoch_end` *before* the epoch's checkpoint is written, so that a run killed in
  between has logged an epoch past its newest checkpoint, and the resumed run's
  ``on_fit_start(trainer, start_epoch)`` tells the logger to drop it (the other order would lose the row);
- is isolated: a logger that raises is reported once (one :class:`LoggerWarning` naming it and the error)
  and the run goes on without it, unless it is :attr:`~Logger.required` (the built-in ``jsonl``, whose
  failure, a full disk say, stops the run);
- is closed (:meth:`~Logger.close`) when the fit ends, whether it succeeded or not.

No JAX here.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> class Losses(Logger):
    ...     def on_epoch_end(self, trainer, record):
    ...         with open(self.run_dir / "losses.txt", "a") as f:
    ...             f.write(f"{record['epoch']} {record['train']['loss']}\\n")
    >>> run = Path(tempfile.mkdtemp())
    >>> group = LoggerGroup([JsonlLogger(run), Losses(run)])
    >>> group.call("on_fit_start", None, 0)
    >>> group.call("on_epoch_end", None, {"epoch": 1, "step": 10, "train": {"loss": 2.5}, "test": {"loss": 2.6}})
    >>> group.close()
    >>> (run / "losses.txt").read_text(), len((run / "metrics.jsonl").read_text().splitlines())
    ('1 2.5\\n', 1)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from artifex_core.training._callbacks import Callback
from artifex_core.training._run_dir import RunDir

if TYPE_CHECKING:  # pragma: no cover - the trainer imports JAX
    import numpy as np

    from artifex_core._name_registry import Registry
    from artifex_core.training._callbacks import FitResult
    from artifex_core.training._trainer import Trainer

__all__ = [
    "HOOKS",
    "JsonlLogger",
    "Logger",
    "LoggerGroup",
    "LoggerWarning",
    "build_loggers",
    "logger_names",
    "qualify_loggers",
]

HOOKS = ("on_fit_start", "on_log", "on_epoch_end", "on_images", "on_fit_end", "close")
"""The methods artifex calls on a logger, in the order of a run (``on_images`` only on loggers that have it)."""


class LoggerWarning(UserWarning):
    """A logger raised (or could not be built) and is switched off for the rest of the run."""


class Logger(Callback):
    """Base class of training loggers: constructed as ``Logger(run_dir, **kwargs)`` in the main process.

    Override the hooks you need (all are no-ops). They are called, in this order:

    - ``on_fit_start(trainer, start_epoch: int)``: once, before the first epoch; ``start_epoch`` is the
      epoch of the checkpoint resumed from (0 for a fresh run). A logger that keeps per-epoch files should
      drop what it wrote for epochs after ``start_epoch`` (a run killed after logging an epoch and before
      checkpointing it).
    - ``on_log(trainer, step: int, metrics: dict[str, float])``: every ``log_every`` steps and at each
      epoch's end, when metrics are fetched from the device; ``step`` is the global step reached and
      ``metrics`` the mean of each scalar loss term (``loss``, ``reconstruction_loss``, ``kl_loss``, ...)
      over the steps since the previous call.
    - ``on_epoch_end(trainer, record: dict[str, Any])``: after each epoch was evaluated and *before* its
      checkpoint is written. ``record`` is the ``metrics.jsonl`` row: ``epoch`` (1-based), ``step``,
      ``train`` and ``test`` (term -> mean over the epoch / the test split), ``lr`` (the learning rate at
      ``step``), ``epoch_time_s``, ``eval_time_s``, ``examples_per_s`` and ``elapsed_s`` (including the time
      before a resume).
    - ``on_images(trainer, epoch: int, images: Mapping[str, np.ndarray])``: after the run folder's pictures
      of epoch ``epoch`` were drawn (by :func:`~artifex_core.training.run_training` with pictures on,
      after the epoch's checkpoint). When a logger has its own ``on_images``, the pictures being written in
      the background are joined and handed over at that epoch's end, so ``trainer.step`` is still that
      epoch's step and the files are on disk. ``images`` maps each picture's name (``samples``, ``reconstructions``,
      ``traversals`` or ``codebook_usage``: the PNG's stem in the run folder) to its pixels as ``uint8``
      ``(H, W, C)``, C 1, 3 or 4. Not called by a bare :class:`~artifex_core.training.Trainer`.
    - ``on_fit_end(trainer, result: FitResult)``: after the last epoch (not when the run fails).
    - ``close()``: always, last, when the fit ends or fails (flush and release files here).

    ``trainer`` offers ``config`` (the ``TrainConfig``), ``epoch``, ``step``, ``steps_per_epoch``,
    ``total_steps`` and ``run`` (the :class:`~artifex_core.training.RunDir`, or None); treat it as read-only.

    Args:
        run_dir: The run folder (it exists; write your files inside it).
        **kwargs: The logger's own options, from ``train.loggers`` in the config. The base class takes
            none: a subclass consumes its options and passes nothing else on.

    Attributes:
        run_dir: The run folder.
        name: The qualified id it was registered under (``plugin:name``; the class name when built by hand).
        required: Class constant: whether a failure stops the run instead of switching the logger off.

    Raises:
        TypeError: An option the logger does not take.

    Example:
        >>> Logger("runs/demo").run_dir.name
        'demo'
        >>> Logger("runs/demo", colour="red")
        Traceback (most recent call last):
        ...
        TypeError: Logger got unexpected options: colour
    """

    required: ClassVar[bool] = False

    def __init__(self, run_dir: Path, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected options: {', '.join(sorted(kwargs))}")
        self.run_dir = Path(run_dir)
        self.name: str = type(self).__name__

    def on_images(self, trainer: Trainer, epoch: int, images: Mapping[str, np.ndarray]) -> None:
        """After the pictures of ``epoch`` were drawn: picture name -> ``uint8`` ``(H, W, C)``. Default: nothing."""

    def close(self) -> None:
        """Release what the logger holds (files, connections); called once, last. Default: nothing."""


class JsonlLogger(Logger):
    """``metrics.jsonl``: one JSON line per epoch, the run folder's own record (always on, required).

    At fit start it keeps only the rows up to the epoch resumed from; each epoch's row replaces the rows of
    that epoch and later. Every write replaces the file atomically. Its failure stops the run.

    Args:
        run_dir: The run folder.

    Example:
        >>> import tempfile
        >>> log = JsonlLogger(tempfile.mkdtemp())
        >>> for epoch in (1, 2, 2):
        ...     log.on_epoch_end(None, {"epoch": epoch})
        >>> log.on_fit_start(None, 1)
        >>> [r["epoch"] for r in RunDir(log.run_dir).read_metrics()]
        [1]
    """

    required: ClassVar[bool] = True

    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir)
        self.run = RunDir(self.run_dir)

    def on_fit_start(self, trainer: Trainer, start_epoch: int) -> None:
        """Drop the rows past ``start_epoch`` (all of them for a fresh run)."""
        self.run.truncate_metrics(start_epoch)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """Write ``record`` as its epoch's row."""
        self.run.append_metrics(record)


def _one_line(exc: BaseException) -> str:
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _name(logger: object) -> str:
    return str(getattr(logger, "name", None) or type(logger).__name__)


class LoggerGroup:
    """Calls hooks on a list of loggers, isolating each one (see the module docstring).

    Args:
        loggers: Loggers (or any :class:`Callback` with an optional ``close()``), called in this order.

    Example:
        >>> class Broken(Logger):
        ...     def on_log(self, trainer, step, metrics):
        ...         raise ValueError("no connection")
        >>> group = LoggerGroup([Broken("runs/demo")])
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     group.call("on_log", None, 1, {"loss": 1.0})
        ...     group.call("on_log", None, 2, {"loss": 1.0})
        >>> [str(w.message) for w in caught], group.active
        (["logger 'Broken' failed in on_log and is switched off for the rest of the run: ValueError: no connection"], [])
    """

    def __init__(self, loggers: Iterable[Callback] = ()) -> None:
        self._active: list[Callback] = list(loggers)
        self.failed: dict[str, str] = {}
        """Name -> one-line error of every logger switched off."""

    @property
    def active(self) -> list[Callback]:
        """The loggers still called."""
        return list(self._active)

    def call(self, hook: str, *args: Any) -> None:
        """Call ``hook(*args)`` on every active logger that has it (a plain :class:`Callback` used as a
        logger has no ``on_images``).

        Raises:
            Exception: Whatever a :attr:`Logger.required` logger raised.
        """
        for logger in list(self._active):
            method = getattr(logger, hook, None)
            if method is None:
                continue
            try:
                method(*args)
            except Exception as exc:  # noqa: BLE001 - isolate every logger
                if getattr(logger, "required", False):
                    raise
                self._drop(logger, hook, exc)

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        """Call ``on_fit_end`` on every active logger."""
        self.call("on_fit_end", trainer, result)

    def close(self) -> None:
        """Close every active logger (a failure is reported and the logger dropped, never raised: this runs on
        the way out, maybe while another error propagates)."""
        for logger in list(self._active):
            close = getattr(logger, "close", None)
            if close is None:
                continue
            try:
                close()
            except Exception as exc:  # noqa: BLE001
                self._active = [other for other in self._active if other is not logger]
                self._report(logger, "close", exc)

    def _report(self, logger: object, hook: str, exc: BaseException) -> None:
        name = _name(logger)
        self.failed[name] = _one_line(exc)
        warnings.warn(
            f"logger {name!r} failed in {hook} and is switched off for the rest of the run: {self.failed[name]}",
            LoggerWarning,
            stacklevel=3,
        )

    def _drop(self, logger: Callback, hook: str, exc: BaseException) -> None:
        self._active = [other for other in self._active if other is not logger]
        self._report(logger, hook, exc)
        close = getattr(logger, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - already reported once
                pass


def logger_names(values: Iterable[str]) -> list[str]:
    """The names of repeated and comma-separated ``--logger`` values, in order, without repeats.

    Example:
        >>> logger_names(["good_log,tb", " tb ", "csv"])
        ['good_log', 'tb', 'csv']
    """
    seen: dict[str, None] = {}
    for value in values:
        for name in value.split(","):
            if name.strip():
                seen.setdefault(name.strip(), None)
    return list(seen)


def _registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from artifex_core._registry import loggers

    return loggers


def qualify_loggers(spec: Mapping[str, Mapping[str, Any]], registry: Registry | None = None) -> dict[str, dict[str, Any]]:
    """``spec`` keyed by qualified ids (``plugin:name``), names that mean one logger merged; imports nothing.

    Args:
        spec: Logger name, alias or qualified id -> its keyword arguments.
        registry: Where to look names up (default: the ``loggers`` registry).

    Raises:
        UnknownNameError: A name no logger answers to (with close matches).
        AmbiguousNameError: A name two plugins registered.

    Example:
        >>> from artifex_core._name_registry import Registry
        >>> reg = Registry("logger")
        >>> _ = reg.register("csv", "mylogs:Csv", aliases=("table",))
        >>> qualify_loggers({"csv": {"every": 2}, "table": {"sep": ";"}}, reg)
        {'local:csv': {'every': 2, 'sep': ';'}}
    """
    reg = _registry(registry)
    out: dict[str, dict[str, Any]] = {}
    for name, kwargs in spec.items():
        out.setdefault(reg.entry(name).qualified_id, {}).update(dict(kwargs or {}))
    return out


def build_loggers(
    spec: Mapping[str, Mapping[str, Any]], run_dir: str | Path, registry: Registry | None = None
) -> list[Callback]:
    """Construct the loggers ``spec`` names as ``cls(Path(run_dir), **kwargs)``, each named by its qualified id.

    A logger whose target is not a :class:`Callback` class, or whose construction raises, is reported once
    (:class:`LoggerWarning`) and left out, unless it is :attr:`Logger.required`.

    Args:
        spec: Logger name -> keyword arguments (see :func:`qualify_loggers`).
        run_dir: The run folder.
        registry: Where to look names up (default: the ``loggers`` registry).

    Raises:
        UnknownNameError: A name no logger answers to.

    Example:
        >>> import tempfile
        >>> from artifex_core._name_registry import Registry
        >>> reg = Registry("logger")
        >>> _ = reg.register("jsonl", JsonlLogger)
        >>> [(type(log).__name__, log.name) for log in build_loggers({"jsonl": {}}, tempfile.mkdtemp(), reg)]
        [('JsonlLogger', 'local:jsonl')]
    """
    built: list[Callback] = []
    for qualified, kwargs in qualify_loggers(spec, registry).items():
        cls: Any = None
        try:
            cls = _registry(registry).entry(qualified).load()
            if not (isinstance(cls, type) and issubclass(cls, Callback)):
                raise TypeError(
                    f"its target {cls!r} is not a class derived from artifex_core.training.Callback "
                    "(subclass artifex_core.training.Logger)"
                )
            # The logger contract: a Callback class constructed as cls(run_dir, **kwargs), as Logger is.
            make: Callable[..., Callback] = cls
            logger = make(Path(run_dir), **kwargs)
            setattr(logger, "name", qualified)  # noqa: B010 - any Callback class may be a logger; Logger declares it
        except Exception as exc:  # noqa: BLE001 - isolate every logger
            if getattr(cls, "required", False):
                raise
            warnings.warn(
                f"logger {qualified!r} could not be built and is left out of this run: {_one_line(exc)}",
                LoggerWarning,
                stacklevel=2,
            )
            continue
        built.append(logger)
    return built
