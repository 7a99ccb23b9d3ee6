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

from artifex_core._conformance import ConformanceError, _check, _finite, tiny_config
from artifex_core._conformance_runs import check_logger, check_metric
from artifex_core._config import ModelConfig
from artifex_core._host import PluginHost, PluginStatus, host

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
