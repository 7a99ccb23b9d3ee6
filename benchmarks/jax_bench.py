"""JAX side of the benchmark: the library's own model classes and trainer step, timed in one process.

Variants (``--variants``):

- ``nnx_jit``: the obvious NNX loop a user writes: ``nnx.Optimizer`` and an ``@nnx.jit`` step taking a batch.
- ``step``: the library's train step as the trainer runs it
  (:func:`artifex_core.training._steps.make_flat_train_step`): ``jax.jit`` over the flat leaves of the split
  state with donated buffers, the data on the device, one step per dispatch. This is the "raw step".
- ``scan``: the same step, ``--scan-steps`` steps per dispatch inside ``lax.scan`` (what the trainer does for
  dense models).
- ``matmul_limit``: only the matrix products of one MLP step, in one jitted call (XLA:CPU's ceiling).

Each variant is warmed up (compiled, then run once more), then timed ``--repeats`` times over ``--steps``
steps; the median is reported. Prints one ``BENCH_RESULT`` JSON line per variant.

Example:
    $ python benchmarks/jax_bench.py --case mlp --variants step,scan --steps 200 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import MODELS, Result, emit, peak_rss_mb, summarize, time_repeats, warm_and_time  # noqa: E402

T_PROCESS_START = time.perf_counter()


def build(case: str, seed: int = 0) -> tuple[Any, Any]:
    """The case's model through the library's factory, and its ``ModelConfig``."""
    from flax import nnx

    from artifex_core import ModelConfig
    from artifex_core import create_model

    cfg = ModelConfig.model_validate(MODELS[case].model_config())
    return create_model(cfg, rngs=nnx.Rngs(seed)), cfg


def _flops(lowered: Any) -> float | None:
    try:
        cost = lowered.cost_analysis()
        if isinstance(cost, list):
            cost = cost[0]
        return float(cost["flops"]) if cost and "flops" in cost else None
    except Exception:  # noqa: BLE001 - cost analysis is best effort
        return None


def bench_library_step(case: str, num_steps: int, steps: int, repeats: int, batch_size: int) -> Result:
    """Time the library's train step with ``num_steps`` steps per dispatch."""
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    from artifex_plugins.data import load_mnist
    from artifex_core.data import epoch_permutation, host_splits, put_split
    from artifex_core.training import StepSpec
    from artifex_core.training._steps import make_flat_train_step

    spec = MODELS[case]
    model, _ = build(case)
    ds = load_mnist()
    binarize = "dynamic" if spec.loss == "bce" else "none"
    x_train, _ = host_splits(ds, binarize)
    split = put_split(x_train, None)
    model.train()
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)
    leaves, treedef = jax.tree.flatten((params, rest, opt_state))
    train = make_flat_train_step(graphdef, tx, StepSpec(batch_size, False, binarize == "dynamic"), treedef)
    key = jax.random.key(0)
    perm = epoch_permutation(key, 0, split.size)
    per_epoch = split.size // batch_size
    state = [leaves]

    args = (state[0], split, perm, key, 0, 0)
    lowered = train.lower(*args, num_steps=num_steps)
    flops = _flops(lowered)
    t0 = time.perf_counter()
    lowered.compile()
    compile_s = time.perf_counter() - t0
    counter = {"step": 0}

    def run(n_calls: int) -> None:
        metrics = None
        for _ in range(n_calls):
            i = counter["step"]
            index = i % (per_epoch - num_steps + 1)
            state[0], metrics = train(state[0], split, perm, key, i, index, num_steps=num_steps)
            counter["step"] += num_steps
        jax.block_until_ready(metrics)

    t0 = time.perf_counter()
    run(1)  # compiles (the AOT compile above is not shared with the jit cache) and runs
    first_call_s = time.perf_counter() - t0
    rates, calls = warm_and_time(run, max(1, steps // num_steps), num_steps, repeats)
    loss = float(jnp.mean(run_metrics_loss(train, state, split, perm, key, counter, num_steps)))
    variant = "step" if num_steps == 1 else f"scan{num_steps}"
    return Result(
        "jax", variant, case, batch_size, summarize(rates)["median"], rates, compile_s, peak_rss_mb(),
        None if flops is None or num_steps > 1 else flops / 1e9, loss,
        {"first_call_s": first_call_s, "steps_per_repeat": calls * num_steps},
    )


def run_metrics_loss(train: Any, state: list[Any], split: Any, perm: Any, key: Any, counter: dict[str, int], k: int) -> Any:
    """One more dispatch, returning its losses (a sanity value: training did progress)."""
    i = counter["step"]
    state[0], metrics = train(state[0], split, perm, key, i, 0, num_steps=k)
    counter["step"] += k
    return metrics["loss"]


def bench_nnx_jit(case: str, steps: int, repeats: int, batch_size: int) -> Result:
    """Time the obvious NNX loop: ``nnx.Optimizer`` and ``@nnx.jit`` with a device batch per step."""
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    from artifex_plugins.data import load_mnist

    spec = MODELS[case]
    model, _ = build(case)
    model.train()
    ds = load_mnist()
    n_batches = 64
    x = jnp.asarray(ds.train_images[: n_batches * batch_size], jnp.float32) / 255.0
    batches = [x[i * batch_size : (i + 1) * batch_size] for i in range(n_batches)]
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    dynamic = spec.loss == "bce"

    @nnx.jit
    def train_step(model: Any, optimizer: Any, batch: jax.Array, key: jax.Array) -> jax.Array:
        if dynamic:
            batch = jax.random.bernoulli(key, batch).astype(jnp.float32)

        def loss_of(m: Any) -> jax.Array:
            return m.loss_fn(batch=batch)["loss"]

        loss, grads = nnx.value_and_grad(loss_of)(model)
        optimizer.update(model, grads)
        return loss

    keys = list(jax.random.split(jax.random.key(0), n_batches))
    counter = {"step": 0}

    def run(n: int) -> None:
        loss = None
        for _ in range(n):
            i = counter["step"] % n_batches
            loss = train_step(model, optimizer, batches[i], keys[i])
            counter["step"] += 1
        jax.block_until_ready(loss)

    t0 = time.perf_counter()
    run(1)
    compile_s = time.perf_counter() - t0
    rates, calls = warm_and_time(run, steps, 1, repeats)
    return Result("jax", "nnx_jit", case, batch_size, summarize(rates)["median"], rates, compile_s, peak_rss_mb(),
                  extra={"steps_per_repeat": calls})


def mlp_matmul_shapes(case: str, batch_size: int) -> list[tuple[int, int, int]]:
    """The ``(M, K, N)`` matrix products of one training step of an MLP case: forward, weight and input grads.

    The first layer needs no input gradient; both latent heads read the last hidden layer.
    """
    spec = MODELS[case]
    dims = [784, *spec.hidden_dims]
    enc = list(zip(dims[:-1], dims[1:], strict=True))
    heads = [(dims[-1], spec.latent_dim)] * (1 if spec.kind == "vq" else 2)
    dec_dims = [spec.latent_dim, *spec.hidden_dims[::-1], 784]
    dec = list(zip(dec_dims[:-1], dec_dims[1:], strict=True))
    shapes = []
    for i, (k, n) in enumerate(enc + heads + dec):
        shapes.append((batch_size, k, n))  # forward
        shapes.append((k, batch_size, n))  # weight gradient x^T @ g
        if i > 0:
            shapes.append((batch_size, n, k))  # input gradient g @ W^T
    return shapes


def bench_matmul_limit(case: str, calls: int, repeats: int, batch_size: int) -> Result:
    """Steps/s if a step were only its matrix products at XLA:CPU's speed (one jitted call doing all of them)."""
    import jax
    import numpy as np

    shapes = mlp_matmul_shapes(case, batch_size)
    rng = np.random.default_rng(0)
    lhs = [jax.device_put(rng.standard_normal((m, k), np.float32)) for m, k, _ in shapes]
    rhs = [jax.device_put(rng.standard_normal((k, n), np.float32)) for _, k, n in shapes]
    matmuls = jax.jit(lambda a, b: [x @ y for x, y in zip(a, b, strict=True)])
    jax.block_until_ready(matmuls(lhs, rhs))

    def run() -> None:
        out = None
        for _ in range(calls):
            out = matmuls(lhs, rhs)
        jax.block_until_ready(out)

    run()
    rates = time_repeats(run, calls, repeats)
    flops = sum(2.0 * m * k * n for m, k, n in shapes)
    return Result(
        "jax", "matmul_limit", case, batch_size, summarize(rates)["median"], rates, None, peak_rss_mb(),
        flops / 1e9, extra={"matmul_gflop_per_s": flops * summarize(rates)["median"] / 1e9, "shapes": shapes},
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the requested variants, printing one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--variants", default="nnx_jit,step,scan", help="comma-separated: nnx_jit, step, scan, matmul_limit")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scan-steps", type=int, default=10, help="steps per dispatch of the scan variant")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("absl").setLevel(logging.ERROR)
    for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
        if variant == "nnx_jit":
            result = bench_nnx_jit(args.case, args.steps, args.repeats, args.batch_size)
        elif variant == "step":
            result = bench_library_step(args.case, 1, args.steps, args.repeats, args.batch_size)
        elif variant == "matmul_limit":
            result = bench_matmul_limit(args.case, max(20, args.steps // 2), args.repeats, args.batch_size)
        elif variant == "scan":
            result = bench_library_step(args.case, args.scan_steps, args.steps, args.repeats, args.batch_size)
        else:
            parser.error(f"unknown variant {variant!r}")
        result.peak_rss_mb = peak_rss_mb()
        emit(result)


if __name__ == "__main__":
    main()
