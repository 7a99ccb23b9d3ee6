"""Speed of the IWAE bound (``artifex evaluate``'s ``iwae`` metric) against XLA:CPU's matmul limit.

Builds the MLP VAE of the benchmarks (784-512-256-32, Bernoulli; weights do not change the cost), runs
:func:`artifex_plugins.metrics.model_iwae_bound` on ``--n`` MNIST test images at ``--k`` samples, and reports

- seconds and examples/s, and the extrapolation to the 10k test images;
- GFLOP/s: the decoder's matrix products (``2 * sum(a * b)`` per sample; the encoder, once per image, is <0.1%),
  over the wall time (XLA's cost analysis counts a ``lax.scan`` body once, so it is printed for reference only,
  scaled by the number of chunks);
- the matmul limit: only the decoder's matrix products at the same shapes (``batch_size * chunk`` rows), in one
  jitted call, as GFLOP/s: what any implementation built from them can reach on this machine.

Example:
    $ python benchmarks/iwae_bench.py --n 512 --k 1000
    $ python benchmarks/iwae_bench.py --n 512 --batch-size 128 --chunk 50   # another blocking
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import MODELS, emit, load_average, mnist_test_images  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Measure and print one ``BENCH_RESULT`` line (and a readable summary on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=512, help="test images")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=100)
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp
    import numpy as np
    from flax import nnx

    from artifex_core import ModelConfig, create_model
    from artifex_plugins.metrics import model_iwae_bound
    from artifex_plugins.metrics._likelihood import _log_weights_fn

    spec = MODELS["mlp"]
    model = create_model(ModelConfig.model_validate(spec.model_config()), rngs=nnx.Rngs(0))
    model.eval()
    x = (mnist_test_images()[: args.n].astype(np.float32)[..., None] / 255.0 > 0.5).astype(np.float32)
    kw = {"k": args.k, "batch_size": args.batch_size, "chunk": args.chunk}
    load = load_average()[0]
    model_iwae_bound(model, x[: args.batch_size], key=jax.random.key(0), **kw)  # compile
    t0 = time.perf_counter()
    bound = model_iwae_bound(model, x, key=jax.random.key(1), **kw)
    seconds = time.perf_counter() - t0

    # XLA's flop count of one batch (the same function iwae_bound jits)
    fn = _log_weights_fn(
        lambda xb: tuple(model.encode(xb))[:2], model.decode_outputs,
        lambda out, xb: model.log_likelihood(xb, out), args.k, min(args.chunk, args.k), False,
    )
    cost = jax.jit(fn).lower(jnp.asarray(x[: args.batch_size]), None, jax.random.key(0)).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    batches = -(-args.n // args.batch_size)
    n_chunks = -(-args.k // min(args.chunk, args.k))
    xla_flops = float(cost.get("flops", 0.0)) * batches * n_chunks if cost else 0.0

    rows = args.batch_size * min(args.chunk, args.k)
    dims = [spec.latent_dim, *spec.hidden_dims[::-1], 784]
    rng = np.random.default_rng(0)
    lhs = [jax.device_put(rng.standard_normal((rows, a), np.float32)) for a in dims[:-1]]
    rhs = [jax.device_put(rng.standard_normal((a, b), np.float32)) for a, b in zip(dims[:-1], dims[1:], strict=True)]
    matmuls = jax.jit(lambda a, b: [p @ q for p, q in zip(a, b, strict=True)])
    jax.block_until_ready(matmuls(lhs, rhs))
    reps = 20
    t1 = time.perf_counter()
    for _ in range(reps):
        out = matmuls(lhs, rhs)
    jax.block_until_ready(out)
    mm_s = (time.perf_counter() - t1) / reps
    mm_flops = sum(2.0 * rows * a * b for a, b in zip(dims[:-1], dims[1:], strict=True))
    flops = mm_flops / rows * args.n * args.k  # the decoder's products of every sample
    result = {
        "kind": "iwae", "n": args.n, "k": args.k, "batch_size": args.batch_size, "chunk": args.chunk,
        "seconds": seconds, "examples_per_s": args.n / seconds, "seconds_for_10k": 10000 * seconds / args.n,
        "gflop": flops / 1e9, "xla_cost_gflop_scaled": xla_flops / 1e9, "gflop_per_s": flops / seconds / 1e9, "matmul_limit_gflop_per_s": mm_flops / mm_s / 1e9,
        "mean_bound": float(np.mean(bound)), "load": load, "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
    result["fraction_of_limit"] = result["gflop_per_s"] / result["matmul_limit_gflop_per_s"]
    print(
        f"IWAE k={args.k}: {args.n} images in {seconds:.2f} s ({result['examples_per_s']:.0f}/s; 10k: "
        f"{result['seconds_for_10k']:.0f} s), {result['gflop_per_s']:.1f} GFLOP/s = "
        f"{100 * result['fraction_of_limit']:.0f}% of the matmul limit {result['matmul_limit_gflop_per_s']:.1f} GFLOP/s "
        f"(load {load:.1f})",
        file=sys.stderr,
    )
    emit(result)


if __name__ == "__main__":
    main()
