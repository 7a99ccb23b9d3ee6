"""Tools for plugin authors: registry isolation, plugin fixtures and conformance checks.

Use the fixtures from a ``conftest.py``::

    pytest_plugins = ["artifex_core.testing"]

    def test_my_model(artifex_plugin):
        artifex_plugin(MyPlugin(), name="mine")        # registered for this test only
        check_model("my_model")

Example:
    >>> with isolated_registries():
    ...     from artifex_core._registry import losses
    ...     _ = losses.register("temporary", lambda pred, x: 0.0)
    >>> from artifex_core._registry import losses
    >>> "temporary" in losses
    False
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from artifex_core._config import ModelConfig
from artifex_core._host import PluginHost, PluginStatus, host
from artifex_core._params import requires_condition

__all__ = [
    "ConformanceError",
    "abstract_call",
    "artifex_plugin",
    "artifex_registries",
    "check_decoder",
    "check_encoder",
    "check_logger",
    "check_metric",
    "check_model",
    "isolated_registries",
    "tiny_config",
]


class ConformanceError(AssertionError):
    """A registered component does not meet artifex's contract; the message says which part."""


@contextmanager
def isolated_registries(plugin_host: PluginHost | None = None) -> Iterator[PluginHost]:
    """Run a block against the host's loaded state and put everything back afterwards.

    Loads the installed plugins, takes :meth:`~artifex_core.PluginHost.snapshot`
    and restores it on exit: registry entries, plugins (and the commands they added) and statuses.

    Args:
        plugin_host: The host to isolate (default: the process-wide one, :func:`artifex_core.host`).

    Yields:
        The host.
    """
    target = plugin_host or host()
    target.load()
    saved = target.snapshot()
    try:
        yield target
    finally:
        target.restore(saved)


@pytest.fixture
def artifex_registries() -> Iterator[PluginHost]:
    """Pytest fixture: the test runs against isolated registries (yields the default host)."""
    with isolated_registries() as isolated:
        yield isolated


@pytest.fixture
def artifex_plugin() -> Iterator[Callable[..., PluginStatus]]:
    """Pytest fixture: a function registering a plugin object for this test only (registries isolated).

    It takes the arguments of :meth:`~artifex_core.PluginHost.register`.
    """
    with isolated_registries() as isolated:
        yield isolated.register


def tiny_config(name: str, **overrides: Any) -> ModelConfig:
    """A tiny config of registered model ``name``: flat 12-dim data, latent 4, one hidden layer of 8."""
    base: dict[str, Any] = {"model": name, "input_dim": (12,), "latent_dim": 4, "hidden_dims": (8,)}
    base.update(overrides)
    if base.get("conditional") or requires_condition(name):
        base.setdefault("num_classes", 3)
        base.setdefault("embed_dim", 4)
    return ModelConfig(**base)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def _finite(tree: Any) -> bool:
    import jax
    import jax.numpy as jnp

    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(tree))


def check_model(name: str, *, config: ModelConfig | None = None, batch_size: int = 3, seed: int = 0) -> dict[str, Any]:
    """Check that registered model ``name`` meets the contract of a ``GenerativeModel``.

    Builds a tiny config, checks the protocol, jits a forward pass and ``loss_fn(batch=..., step=...)``,
    checks finite values and the promised keys, takes a gradient, samples, and round-trips the config
    through JSON.

    Returns:
        A small report: the model's class name, its loss keys and its output keys.

    Raises:
        ConformanceError: Naming the first broken promise.
    """
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from artifex_core._factory import create_model
    from artifex_core._protocols import GenerativeModel

    cfg = config or tiny_config(name)
    _check(ModelConfig.model_validate_json(cfg.model_dump_json()) == cfg, "config does not round-trip through JSON")
    _check(json.loads(cfg.model_dump_json())["model"] == name, "config JSON lost the model name")
    model: Any = create_model(cfg, rngs=nnx.Rngs(seed))  # an nnx.Module that is also a GenerativeModel
    _check(isinstance(model, GenerativeModel), f"{type(model).__name__} does not satisfy GenerativeModel")
    x = jax.random.uniform(jax.random.key(seed), (batch_size, *cfg.input_dim))
    batch: Any = {"x": x, "y": jnp.arange(batch_size) % (cfg.num_classes or 1)} if cfg.conditional else x

    @nnx.jit
    def forward(model: Any, batch: Any) -> Any:
        if cfg.conditional:
            return model(batch["x"], y=batch["y"])
        return model(batch)

    @nnx.jit
    def loss_and_grad(model: Any, batch: Any) -> Any:
        def loss(model: Any) -> Any:
            terms = model.loss_fn(batch=batch, step=1)
            return terms["loss"], terms

        return nnx.value_and_grad(loss, has_aux=True)(model)

    outputs = forward(model, batch)
    _check(isinstance(outputs, dict) and bool(outputs), "__call__ must return a non-empty dict")
    _check(_finite(outputs), "__call__ returned non-finite values")
    (value, terms), grads = loss_and_grad(model, batch)
    for key in ("loss", "total_loss"):
        _check(key in terms, f"loss_fn output lacks {key!r} (has {sorted(terms)})")
    _check(bool(jnp.isfinite(value)), f"loss is not finite: {value}")
    _check(_finite(grads), "gradients are not finite")
    _check(any(bool(jnp.any(g != 0)) for g in jax.tree_util.tree_leaves(grads)), "all gradients are zero")
    kwargs = {"y": jnp.zeros((2,), jnp.int32)} if cfg.conditional else {}
    samples = model.sample(2, **kwargs)
    expected = (2, *(cfg.output_dim or cfg.input_dim))
    _check(tuple(samples.shape) == expected, f"sample(2) has shape {tuple(samples.shape)}, expected {expected}")
    _check(_finite(samples), "samples are not finite")
    return {"model": type(model).__name__, "loss_keys": sorted(terms), "output_keys": sorted(outputs)}


def check_encoder(name: str, *, input_dim: tuple[int, ...] = (16, 16, 1), latent_dim: int = 4) -> None:
    """Check that encoder ``name`` builds from a config and maps a batch to ``(mean, log_var)`` of (B, latent_dim)."""
    import jax.numpy as jnp
    from flax import nnx

    from artifex_core._factory import create_encoder_unified

    cfg = ModelConfig(input_dim=input_dim, latent_dim=latent_dim, hidden_dims=(4, 8))
    enc = create_encoder_unified(config=cfg, encoder_type=name, rngs=nnx.Rngs(0))
    out = nnx.jit(lambda m, x: m(x))(enc, jnp.ones((2, *input_dim)))
    _check(isinstance(out, tuple) and len(out) == 2, "an encoder returns (mean, log_var)")
    for part in out:
        _check(tuple(part.shape) == (2, latent_dim), f"encoder output shape {tuple(part.shape)} != (2, {latent_dim})")


def check_decoder(name: str, *, output_dim: tuple[int, ...] = (16, 16, 1), latent_dim: int = 4) -> None:
    """Check that decoder ``name`` builds from a config and maps (B, latent_dim) to (B, *output_dim)."""
    import jax.numpy as jnp
    from flax import nnx

    from artifex_core._factory import create_decoder_unified

    cfg = ModelConfig(input_dim=output_dim, latent_dim=latent_dim, hidden_dims=(4, 8))
    dec = create_decoder_unified(config=cfg, decoder_type=name, rngs=nnx.Rngs(0))
    out = nnx.jit(lambda m, z: m(z))(dec, jnp.ones((2, latent_dim)))
    _check(tuple(out.shape) == (2, *output_dim), f"decoder output shape {tuple(out.shape)} != {(2, *output_dim)}")
    _check(math.prod(out.shape) > 0 and _finite(out), "decoder output is not finite")


def check_logger(name: str, *, epochs: int = 2, **kwargs: Any) -> dict[str, Any]:
    """Check that registered logger ``name`` meets the logger contract, without JAX or a real run.

    Loads the class, constructs it as ``cls(run_dir, **kwargs)`` on a temporary run folder, then drives a
    whole fit with a stand-in trainer (``config``, ``epoch``, ``step``, ``steps_per_epoch``, ``total_steps``
    and ``run``): ``on_fit_start(trainer, 0)``, per epoch two ``on_log`` calls, ``on_epoch_end`` with a
    ``metrics.jsonl``-shaped record and (when the logger has it) ``on_images`` with an 8x8 grey ``samples``
    picture, ``on_fit_end``, ``close()``; then a resumed fit from epoch 1 on a new instance. The temporary folder is removed afterwards.

    Args:
        name: A registered logger name, alias or qualified id.
        epochs: Epochs to drive.
        **kwargs: The logger's options.

    Returns:
        A small report: the logger's class name and the files it wrote (relative to the run folder).

    Raises:
        ConformanceError: Naming the first broken promise (not a Callback class, a hook that raised, a
            file written outside the run folder's tree).

    Example:
        >>> check_logger("jsonl")
        {'logger': 'JsonlLogger', 'files': ['metrics.jsonl']}
    """
    import tempfile
    import types
    from pathlib import Path

    import numpy as np

    from artifex_core._registry import loggers
    from artifex_core.training._callbacks import Callback, FitResult
    from artifex_core.training._config import TrainConfig
    from artifex_core.training._run_dir import RunDir

    cls = loggers.get(name)
    _check(isinstance(cls, type) and issubclass(cls, Callback), f"logger {name!r} is not a Callback class: {cls!r}")
    steps = 4
    with tempfile.TemporaryDirectory(prefix="artifex-check-logger-") as tmp:
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        config = TrainConfig(epochs=epochs, batch_size=8, log_every=2)
        trainer = types.SimpleNamespace(
            config=config, epoch=0, step=0, steps_per_epoch=steps, total_steps=epochs * steps, run=RunDir(run_dir)
        )

        def drive(logger: Any, start: int) -> None:
            def call(hook: str, *args: Any) -> None:
                try:
                    getattr(logger, hook)(*args)
                except Exception as exc:  # noqa: BLE001 - reported as a broken promise
                    raise ConformanceError(f"logger {name!r} raised in {hook}: {type(exc).__name__}: {exc}") from exc

            history = []
            trainer.epoch, trainer.step = start, start * steps
            call("on_fit_start", trainer, start)
            for epoch in range(start + 1, epochs + 1):
                trainer.epoch = epoch
                for _ in range(2):
                    trainer.step += steps // 2
                    call("on_log", trainer, trainer.step, {"loss": 1.0 / epoch, "kl_loss": 0.1})
                record = {
                    "epoch": epoch, "step": trainer.step, "train": {"loss": 1.0 / epoch, "kl_loss": 0.1},
                    "test": {"loss": 1.1 / epoch, "kl_loss": 0.1}, "lr": 1e-3, "epoch_time_s": 0.01,
                    "eval_time_s": 0.01, "examples_per_s": 3200.0, "elapsed_s": 0.02 * epoch,
                }
                history.append(record)
                call("on_epoch_end", trainer, record)
                if callable(getattr(logger, "on_images", None)):
                    call("on_images", trainer, epoch, {"samples": np.full((8, 8, 1), 128, np.uint8)})
            call("on_fit_end", trainer, FitResult(history=history, start_epoch=start, best_epoch=epochs))
            call("close")

        try:
            first = cls(run_dir, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise ConformanceError(f"logger {name!r} cannot be built as cls(run_dir, **kwargs): {exc}") from exc
        drive(first, 0)
        if epochs > 1:
            drive(cls(run_dir, **kwargs), 1)  # a resumed run: same folder, new instance
        outside = [p.name for p in Path(tmp).iterdir() if p != run_dir]
        _check(not outside, f"logger {name!r} wrote outside the run folder: {outside}")
        files = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file())
    return {"logger": cls.__name__, "files": files}


def check_metric(
    name: str,
    *,
    model: str | None = None,
    config: ModelConfig | None = None,
    examples: int = 16,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """Check that registered metric ``name`` meets the metric contract on a tiny untrained model.

    Builds ``config`` (default :func:`tiny_config` of ``model``) as a stand-in :class:`LoadedRun` (epoch 0,
    a temporary run folder), makes ``examples`` random test examples in [0, 1] (labels when conditional),
    constructs the metric with ``options`` (only those it declares), and checks that ``applies`` returns a
    bool and, when it applies, that ``compute`` returns a JSON-serializable dict of finite numbers that is
    the same for the same seed.

    Args:
        name: A registered metric name, alias or qualified id.
        model: The registered model to build when ``config`` is None (None: ``ModelConfig``'s default model).
        config: The model config to build.
        examples: Number of test examples.
        seed: The seed passed to ``compute``.
        **options: The metric's options (keyword arguments of its ``__init__``).

    Returns:
        ``{"metric": class name, "applies": bool, "figures": what compute returned (or None)}``.

    Raises:
        ConformanceError: Naming the first broken promise (not a Metric, unknown option, applies not a bool,
            compute raising or returning something that is not JSON with finite numbers, not reproducible).

    Example:
        >>> check_metric("test_loss", examples=4)["figures"]["loss"] > 0
        True
    """
    import tempfile
    from pathlib import Path

    import numpy as np
    from flax import nnx

    from artifex_core.evaluation import EvalData, Metric, metric_options
    from artifex_core._factory import create_model
    from artifex_core._registry import metrics
    from artifex_core.training._config import TrainConfig
    from artifex_core.training._run import LoadedRun
    from artifex_core.training._run_dir import RunDir

    target = metrics.get(name)
    _check(isinstance(target, Metric) or (isinstance(target, type) and issubclass(target, Metric)),
           f"metric {name!r} is not a Metric subclass or instance: {target!r}")
    if isinstance(target, type):
        declared = metric_options(target)
        unknown = sorted(set(options) - set(declared))
        _check(not unknown, f"metric {name!r} does not declare option(s) {unknown} (declares: {sorted(declared)})")
        metric = target(**options)
    else:
        metric = target
    cfg = config or tiny_config(model or ModelConfig.model_fields["model"].default)
    rng = np.random.default_rng(seed)
    x = rng.random((examples, *cfg.input_dim)).astype(np.float32)
    y = rng.integers(0, cfg.num_classes, examples) if cfg.conditional and cfg.num_classes else None
    data = EvalData(x, y, dataset=None)
    built = create_model(cfg, rngs=nnx.Rngs(seed))
    built.eval()
    with tempfile.TemporaryDirectory(prefix="artifex-check-metric-") as tmp:
        run = LoadedRun(built, cfg, TrainConfig(epochs=1), 0, {}, RunDir(Path(tmp)), {})
        applies = metric.applies(run)
        _check(isinstance(applies, bool), f"metric {name!r}: applies() must return a bool, got {applies!r}")
        if not applies:
            return {"metric": type(metric).__name__, "applies": False, "figures": None}
        try:
            figures = metric.compute(run, data, seed=seed)
            again = metric.compute(run, data, seed=seed)
        except Exception as exc:  # noqa: BLE001 - reported as a broken promise
            raise ConformanceError(f"metric {name!r} raised in compute: {type(exc).__name__}: {exc}") from exc
    _check(isinstance(figures, dict), f"metric {name!r}: compute() must return a dict, got {type(figures).__name__}")
    try:
        text = json.dumps(figures, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConformanceError(f"metric {name!r}: compute() must return JSON with finite numbers: {exc}") from None
    _check(text == json.dumps(again, allow_nan=False), f"metric {name!r}: compute() differs for the same seed")
    return {"metric": type(metric).__name__, "applies": True, "figures": figures}


def abstract_call(build: Callable[[], Any], *shapes: tuple[int, ...], **call_kwargs: Any) -> tuple[Any, Any]:
    """Build a module and call it on zeros of ``shapes`` under ``jax.eval_shape``: traced, never compiled.

    Cheap shape tests: the outputs come back as ``jax.ShapeDtypeStruct`` s, and the module, whose static
    attributes (``input_dim``, ``latent_shape``, layer sizes) are then readable.

    Args:
        build: Makes the module (called inside the trace, so its parameters are never computed).
        *shapes: One input shape per positional argument of the call.
        **call_kwargs: Passed to the call as they are (e.g. ``condition=labels``).

    Returns:
        ``(output shapes, module)``.

    Example:
        >>> from flax import nnx
        >>> out, layer = abstract_call(lambda: nnx.Linear(3, 2, rngs=nnx.Rngs(0)), (5, 3))
        >>> out.shape, layer.in_features
        ((5, 2), 3)
    """
    import jax
    import jax.numpy as jnp

    box: dict[str, Any] = {}

    def run() -> Any:
        box["module"] = build()
        return box["module"](*(jnp.zeros(s) for s in shapes), **call_kwargs)

    return jax.eval_shape(run), box["module"]
