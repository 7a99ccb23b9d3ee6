"""The jitted train and eval steps over the split NNX state.

The model is split once into ``(graphdef, params, rest)``: ``params`` are the :class:`nnx.Param` variables
(differentiated and optimized), ``rest`` everything else (RNG keys and counts, VQ usage counts, EMA codebooks).
The step merges them, calls the model's own ``loss_fn(batch=..., step=...)``, splits again and returns the new
``params``, ``rest`` and optimizer state. ``jax.jit`` with donated state buffers was measured ~30% faster than
``nnx.jit`` on CPU (see ARCHITECTURE.md). ``num_steps > 1`` runs that many steps in one dispatch with
``lax.scan``; metrics come back as ``(num_steps,)`` arrays and stay on the device until the trainer fetches them.

What a step computes from the model's loss (the batch, the metrics kept, per-group gradients) is
:mod:`~artifex_core.training._step_loss`. :func:`make_steps` does it all for the trainer: split the model,
put its state on the devices, initialise the optimizer and make both steps.

Example:
    >>> # steps, leaves = make_steps(model, tx, StepSpec(batch_size=128), replicated)
    >>> # leaves, metrics = steps.train(leaves, split, perm, key, 0, 0, num_steps=10)
    >>> # train = make_train_step(graphdef, tx, StepSpec(batch_size=128))
    >>> # params, rest, opt_state, metrics = train(params, rest, opt_state, split, perm, key, 0, 0, num_steps=10)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from artifex_core.data._pipeline import DeviceSplit, dynamic_binarize, gather_batch, to_float
from artifex_core.training._sharding import put_on_mesh
from artifex_core.training._groups import ParamGroup, label_of
from artifex_core.training._state_paths import path_names
from artifex_core.training._step_loss import group_gradients, make_batch, scalar_metrics

__all__ = [
    "EVAL_STEP",
    "StepSpec",
    "Steps",
    "make_eval_step",
    "make_flat_stream_step",
    "make_flat_train_step",
    "make_steps",
    "make_train_step",
    "split_params",
]

EVAL_STEP = 2**30
"""The ``step`` passed to ``loss_fn`` when evaluating: every warmup and capacity schedule has finished."""


@dataclass(frozen=True)
class StepSpec:
    """Static facts of a training step.

    Attributes:
        batch_size: Examples per step.
        conditional: Pass labels: ``batch={"x": x, "y": y}`` instead of ``batch=x``.
        dynamic_binarize: Resample Bernoulli pixels every step.
        batch_sharding: Sharding of a batch (None: no constraint).
        groups: The model's parameter groups (``optimizer_groups``), as ``(name, ParamGroup)`` pairs: each
            group's parameters get the gradient of that group's loss only; the rest (``main``) that of ``"loss"``.
    """

    batch_size: int
    conditional: bool = False
    dynamic_binarize: bool = False
    batch_sharding: Any = None
    groups: tuple[tuple[str, ParamGroup], ...] = ()


def split_params(model: nnx.Module) -> tuple[nnx.GraphDef[nnx.Module], nnx.State, nnx.State]:
    """Split ``model`` into ``(graphdef, params, rest)``: ``nnx.split(model, nnx.Param, ...)``, typed.

    ``nnx.split`` with two filters returns exactly three parts, but its annotation is a variadic tuple; this
    gives the checker the three.

    Example:
        >>> from flax import nnx
        >>> graphdef, params, rest = split_params(nnx.Linear(2, 3, rngs=nnx.Rngs(0)))
        >>> sorted(params), len(rest)
        (['bias', 'kernel'], 0)
    """
    graphdef, params, *others = nnx.split(model, nnx.Param, ...)
    (rest,) = others
    return graphdef, params, rest


BatchOf = Callable[[Any, jax.Array], tuple[jax.Array, "jax.Array | None"]]
"""``batch_of(data, i) -> (x, y)``: batch ``i`` (an offset inside one dispatch, traced) of a step's ``data``."""


def _gathered(batch_size: int) -> BatchOf:
    """The device-resident path's batches: ``data = (split, perm, start_index)``, gathered on the device."""

    def batch_of(data: Any, i: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        split, perm, start_index = data
        return gather_batch(split, perm, start_index + i, batch_size)

    return batch_of


def _fed(data: Any, i: jax.Array) -> tuple[jax.Array, jax.Array | None]:
    """The host-streaming path's batches: ``data = (xs, ys)`` stacked ``(num_steps, batch, ...)``."""
    xs, ys = data
    x = to_float(jax.lax.dynamic_index_in_dim(xs, i, keepdims=False))
    y = None if ys is None else jax.lax.dynamic_index_in_dim(ys, i, keepdims=False)
    return x, y


def _train_fn(
    graphdef: nnx.GraphDef, tx: optax.GradientTransformation, spec: StepSpec, batch_of: BatchOf | None = None
) -> Callable[..., Any]:
    """The train function of :func:`make_train_step` (or, with another ``batch_of``, of the streaming step),
    not yet jitted: ``train(params, rest, opt_state, data, bin_key, start_step, valid, *, num_steps)``."""

    sharding = spec.batch_sharding
    replicated = None if sharding is None else NamedSharding(sharding.mesh, PartitionSpec())
    get_batch = batch_of if batch_of is not None else _gathered(spec.batch_size)

    def one_step(
        carry: tuple[Any, Any, Any], data: Any, bin_key: jax.Array, step: jax.Array, i: jax.Array,
    ) -> tuple[tuple[Any, Any, Any], dict[str, jax.Array]]:
        params, rest, opt_state = carry
        x, y = get_batch(data, i)
        if spec.dynamic_binarize:
            x = dynamic_binarize(bin_key, step, x, replicated)
        if spec.batch_sharding is not None:
            x = jax.lax.with_sharding_constraint(x, spec.batch_sharding)
            if y is not None:
                y = jax.lax.with_sharding_constraint(y, spec.batch_sharding)
        batch = make_batch(x, y, spec.conditional)

        def loss_of(p: Any) -> tuple[jax.Array, tuple[dict[str, Any], Any]]:
            model = nnx.merge(graphdef, p, rest, copy=True)
            losses = model.loss_fn(batch=batch, step=step)
            _, _, new_rest = split_params(model)
            return losses["loss"], (scalar_metrics(losses, getattr(model, "loss_aliases", ())), new_rest)

        if spec.groups:
            def losses_of(p: Any) -> tuple[dict[str, jax.Array], tuple[dict[str, Any], Any]]:
                model = nnx.merge(graphdef, p, rest, copy=True)
                losses = model.loss_fn(batch=batch, step=step)
                _, _, new_rest = split_params(model)
                keys = {"loss", *(group.loss for _, group in spec.groups)}
                terms = {k: jnp.asarray(v) for k, v in losses.items() if k in keys}
                return terms, (scalar_metrics(losses, getattr(model, "loss_aliases", ())), new_rest)

            grads, norms, (metrics, new_rest) = group_gradients(losses_of, params, spec.groups)
            metrics.update(norms)
        else:
            grads, (metrics, new_rest) = jax.grad(loss_of, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        metrics["grad_norm"] = optax.tree.norm(grads).astype(jnp.float32)
        return (params, new_rest, opt_state), metrics

    def train(
        params: Any, rest: Any, opt_state: Any, data: Any, bin_key: jax.Array, start_step: jax.Array,
        valid: jax.Array | None = None, *, num_steps: int = 1,
    ) -> tuple[Any, Any, Any, dict[str, jax.Array]]:
        start_step = jnp.asarray(start_step, jnp.int32)
        carry = (params, rest, opt_state)
        zero = jnp.asarray(0, jnp.int32)
        if num_steps == 1:
            carry, metrics = one_step(carry, data, bin_key, start_step, zero)
            metrics = {k: v[None] for k, v in metrics.items()}
        else:
            n_valid = jnp.asarray(num_steps if valid is None else valid, jnp.int32)

            traced: dict[str, Any] = {}

            def run(c: Any, i: jax.Array) -> Any:
                out = one_step(c, data, bin_key, start_step + i, i)
                traced["metrics"] = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), out[1])
                return out

            def skip(c: Any, i: jax.Array) -> Any:
                # the metric shapes recorded when ``run`` was traced (the model is traced once: time to first step)
                shapes = traced["metrics"] if "metrics" in traced else jax.eval_shape(run, c, i)[1]
                return c, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

            def body(c: Any, i: jax.Array) -> Any:
                # steps past ``valid`` (the end of an epoch) are skipped: one compiled program for every dispatch
                return jax.lax.cond(i < n_valid, run, skip, c, i)  # run is traced first, skip reuses its shapes

            carry, metrics = jax.lax.scan(body, carry, jnp.arange(num_steps, dtype=jnp.int32))
        return (*carry, metrics)

    return train


def _device_train_fn(graphdef: nnx.GraphDef, tx: optax.GradientTransformation, spec: StepSpec) -> Callable[..., Any]:
    """``train(params, rest, opt_state, split, perm, bin_key, start_step, start_index, valid, *, num_steps)``."""
    inner = _train_fn(graphdef, tx, spec)

    def train(
        params: Any, rest: Any, opt_state: Any, split: DeviceSplit, perm: jax.Array, bin_key: jax.Array,
        start_step: jax.Array, start_index: jax.Array, valid: jax.Array | None = None, *, num_steps: int = 1,
    ) -> tuple[Any, Any, Any, dict[str, jax.Array]]:
        data = (split, perm, jnp.asarray(start_index, jnp.int32))
        return inner(params, rest, opt_state, data, bin_key, start_step, valid, num_steps=num_steps)

    return train


def make_train_step(graphdef: nnx.GraphDef, tx: optax.GradientTransformation, spec: StepSpec) -> Callable[..., Any]:
    """A jitted ``train(params, rest, opt_state, split, perm, bin_key, start_step, start_index, valid, *, num_steps)``.

    Runs steps ``start_step .. start_step + valid - 1`` (``valid <= num_steps``, default all) on batches
    ``start_index ..`` of the epoch ordered by ``perm``; the remaining iterations of the scan are skipped, so the
    end of an epoch reuses the same compiled program. Donates ``params``, ``rest`` and ``opt_state``. Returns
    ``(params, rest, opt_state, metrics)`` with ``metrics[name]`` of shape ``(num_steps,)`` (the loss terms plus
    ``grad_norm``; entries past ``valid`` are zeros).
    """
    train = _device_train_fn(graphdef, tx, spec)
    return partial(jax.jit, static_argnames="num_steps", donate_argnums=(0, 1, 2))(train)


def make_flat_train_step(
    graphdef: nnx.GraphDef, tx: optax.GradientTransformation, spec: StepSpec, treedef: Any
) -> Callable[..., Any]:
    """:func:`make_train_step` over the flat leaves of ``(params, rest, opt_state)``: what the trainer runs.

    ``train(leaves, split, perm, bin_key, start_step, start_index, valid, *, num_steps) -> (leaves, metrics)``,
    with ``treedef = jax.tree.structure((params, rest, opt_state))``; ``leaves`` is donated. Passing plain
    arrays instead of ``nnx.State`` trees skips building an ``nnx.Variable`` per leaf on every call (about
    1 ms of Python per dispatch for the MLP VAE, 10-15% of its step on a 2-core CPU).

    Example:
        >>> # leaves, treedef = jax.tree.flatten((params, rest, opt_state))
        >>> # train = make_flat_train_step(graphdef, tx, StepSpec(128), treedef)
        >>> # leaves, metrics = train(leaves, split, perm, key, 0, 0, num_steps=10)
    """
    inner = _device_train_fn(graphdef, tx, spec)

    @partial(jax.jit, static_argnames="num_steps", donate_argnums=0)
    def train(
        leaves: list[jax.Array], split: DeviceSplit, perm: jax.Array, bin_key: jax.Array, start_step: jax.Array,
        start_index: jax.Array, valid: jax.Array | None = None, *, num_steps: int = 1,
    ) -> tuple[list[jax.Array], dict[str, jax.Array]]:
        params, rest, opt_state = jax.tree.unflatten(treedef, leaves)
        *state, metrics = inner(params, rest, opt_state, split, perm, bin_key, start_step, start_index, valid,
                                num_steps=num_steps)
        return jax.tree.leaves(tuple(state)), metrics

    return train


def make_flat_stream_step(
    graphdef: nnx.GraphDef, tx: optax.GradientTransformation, spec: StepSpec, treedef: Any
) -> Callable[..., Any]:
    """The host-streaming twin of :func:`make_flat_train_step`: the batches come in, already on the devices.

    ``train(leaves, xs, ys, bin_key, start_step, valid) -> (leaves, metrics)`` runs ``xs.shape[0]`` steps
    (a ``lax.scan``; the steps past ``valid`` are skipped) on the batches ``xs[i]`` (``uint8`` or ``float32``,
    shape ``(num_steps, batch_size, ...)``, the batch axis sharded over the mesh) and labels ``ys[i]`` (or
    None). Everything else (binarization by ``(key, step)``, the loss, the update) is the device-resident
    step's own code, so both paths give the same numbers for the same batches. ``leaves`` is donated.

    Example:
        >>> # train = make_flat_stream_step(graphdef, tx, StepSpec(128), treedef)
        >>> # leaves, metrics = train(leaves, xs, None, key, 0, 10)  # xs: (10, 128, 28, 28, 1) uint8
    """
    inner = _train_fn(graphdef, tx, spec, _fed)

    @partial(jax.jit, donate_argnums=0)
    def train(
        leaves: list[jax.Array], xs: jax.Array, ys: jax.Array | None, bin_key: jax.Array, start_step: jax.Array,
        valid: jax.Array | None = None,
    ) -> tuple[list[jax.Array], dict[str, jax.Array]]:
        params, rest, opt_state = jax.tree.unflatten(treedef, leaves)
        *state, metrics = inner(params, rest, opt_state, (xs, ys), bin_key, start_step, valid,
                                num_steps=int(xs.shape[0]))
        return jax.tree.leaves(tuple(state)), metrics

    return train


def make_eval_step(
    graphdef: nnx.GraphDef, conditional: bool, batch_sharding: Any = None
) -> Callable[..., dict[str, jax.Array]]:
    """A jitted ``evaluate(params, rest, x, y) -> metrics`` on one batch with ``step=EVAL_STEP``.

    ``graphdef`` should come from the model in eval mode. The RNG state the loss consumes is not carried out,
    so evaluating never changes the training run.
    """

    @jax.jit
    def evaluate(params: Any, rest: Any, x: jax.Array, y: jax.Array | None) -> dict[str, jax.Array]:
        x = to_float(x)
        if batch_sharding is not None and x.shape[0] % batch_sharding.mesh.size == 0:
            x = jax.lax.with_sharding_constraint(x, batch_sharding)
        model = nnx.merge(graphdef, params, rest, copy=True)
        losses = model.loss_fn(batch=make_batch(x, y, conditional), step=jnp.asarray(EVAL_STEP, jnp.int32))
        return scalar_metrics(losses, getattr(model, "loss_aliases", ()))

    return evaluate


@dataclass(frozen=True)
class Steps:
    """The trainer's step functions and the layout of the flat training state they take.

    Attributes:
        graphdef: The model's graph in train mode (``nnx.merge(graphdef, params, rest)`` rebuilds it).
        state_def: The tree structure of ``(params, rest, opt_state)``: the order of the flat state's leaves.
        train: :func:`make_flat_train_step` over that state.
        stream: :func:`make_flat_stream_step` over that state (the host-streaming path).
        evaluate: :func:`make_eval_step` of the model in eval mode.
    """

    graphdef: nnx.GraphDef[nnx.Module]
    state_def: Any
    train: Callable[..., Any]
    evaluate: Callable[..., dict[str, jax.Array]]
    stream: Callable[..., Any] | None = None


def make_steps(
    model: nnx.Module, tx: optax.GradientTransformation, spec: StepSpec, sharding: Any = None
) -> tuple[Steps, list[jax.Array]]:
    """Split ``model``, put copies of its state and a fresh ``tx`` state on ``sharding``, make both steps.

    The model is left in train mode. Its own arrays are copied (``may_alias=False``): the train step donates
    the state it is given, and the model keeps its arrays.

    Returns:
        ``(steps, leaves)``: the step functions and the flat initial state ``train`` takes.

    Example:
        >>> import optax
        >>> from flax import nnx
        >>> steps, leaves = make_steps(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), optax.sgd(0.1), StepSpec(4))
        >>> len(leaves), [tuple(leaf.shape) for leaf in leaves]
        (2, [(3,), (2, 3)])
    """
    model.eval()
    eval_graphdef = nnx.graphdef(model)
    model.train()
    graphdef, params, rest = split_params(model)
    if spec.groups:
        held = {label_of(path_names(path), dict(spec.groups)) for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]}
        for name, group in spec.groups:
            if name not in held:
                raise ValueError(
                    f"parameter group {name!r} of {type(model).__name__} holds no parameter (filter {group.filter!r})"
                )
    params = put_on_mesh(params, sharding, may_alias=False)  # plain device_put unless the mesh spans processes
    rest = put_on_mesh(rest, sharding, may_alias=False)
    opt_state = put_on_mesh(tx.init(params), sharding)
    leaves, state_def = jax.tree.flatten((params, rest, opt_state))
    steps = Steps(
        graphdef=graphdef,
        state_def=state_def,
        train=make_flat_train_step(graphdef, tx, spec, state_def),
        evaluate=make_eval_step(eval_graphdef, spec.conditional, spec.batch_sharding),
        stream=make_flat_stream_step(graphdef, tx, spec, state_def),
    )
    return steps, leaves
