"""One 2x upsampling layer on XLA:CPU: the decoders' sub-pixel layer against ``nnx.ConvTranspose``, with and
without the YNNPACK fusions.

Each round starts one fresh process per flag set (XLA reads ``XLA_FLAGS`` once) and times, per layer shape,
the jitted forward and backward pass (gradients of ``sum(tanh(layer(x)))`` with respect to the parameters
and the input) of:

- ``subpixel_k3``: :class:`artifex_plugins.vae.SubPixelUpsample` with ``kernel_size=3`` (a 2x2 convolution to
  ``4*out`` channels, then depth-to-space), what :class:`~artifex_plugins.vae.CNNDecoder` uses;
- ``convT_k3`` / ``convT_k4``: ``nnx.ConvTranspose`` with a 3x3 / 4x4 kernel, stride 2, 'SAME'.

Rounds alternate the order of the flag sets; each row prints milliseconds per call (mean over ``--seconds``).

Example:
    $ python benchmarks/upsample_layers.py --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

FLAG_SETS = {"none": "", "ynn_all": "--xla_cpu_experimental_ynn_fusion_type=dot,eltwise,reduce"}
SHAPES = [((7, 7, 64), (14, 14, 32)), ((14, 14, 32), (28, 28, 32))]
"""(input H, W, C) -> (output H, W, C): the conv VAE decoder's first stage, and a second at full width."""


def worker(batch: int, seconds: float) -> None:
    """Time every layer of :data:`SHAPES` in this process (flags already in the environment)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from artifex_plugins.vae import SubPixelUpsample

    for (h, w, cin), (oh, ow, cout) in SHAPES:
        x = jax.random.normal(jax.random.key(0), (batch, h, w, cin))
        layers = {
            "subpixel_k3": SubPixelUpsample(cin, cout, (oh, ow), kernel_size=3, rngs=nnx.Rngs(0)),
            "convT_k3": nnx.ConvTranspose(cin, cout, (3, 3), strides=(2, 2), padding="SAME", rngs=nnx.Rngs(0)),
            "convT_k4": nnx.ConvTranspose(cin, cout, (4, 4), strides=(2, 2), padding="SAME", rngs=nnx.Rngs(0)),
        }
        for name, layer in layers.items():
            graphdef, state = nnx.split(layer)

            @jax.jit
            def grads(state: nnx.State, x: jax.Array, graphdef: nnx.GraphDef = graphdef) -> tuple[nnx.State, jax.Array]:
                return jax.grad(lambda s, x: jnp.sum(jnp.tanh(nnx.merge(graphdef, s)(x))), argnums=(0, 1))(state, x)

            jax.block_until_ready(grads(state, x))
            calls, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                out = grads(state, x)
                calls += 1
            jax.block_until_ready(out)
            ms = (time.perf_counter() - start) / calls * 1e3
            print(json.dumps({"shape": f"{h}x{w}x{cin}->{oh}x{ow}x{cout}", "layer": name, "ms": ms}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=2.0, help="timing window per layer")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.batch_size, args.seconds)
        return
    rows: dict[tuple[str, str, str], list[float]] = {}
    for r in range(args.rounds):
        order = list(FLAG_SETS) if r % 2 == 0 else list(reversed(FLAG_SETS))
        for flags in order:
            env = {**os.environ, "XLA_FLAGS": FLAG_SETS[flags], "ARTIFEX_XLA_TUNING": "off"}
            cmd = [sys.executable, __file__, "--worker", "--batch-size", str(args.batch_size), "--seconds", str(args.seconds)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                row = json.loads(line)
                rows.setdefault((row["shape"], flags, row["layer"]), []).append(row["ms"])
    print(f"load average {os.getloadavg()[0]:.2f}; ms per forward+backward call, per round")
    for (shape, flags, layer), ms in rows.items():
        print(f"{shape:22s} {flags:8s} {layer:12s} " + "  ".join(f"{m:7.2f}" for m in ms))


if __name__ == "__main__":
    main()
