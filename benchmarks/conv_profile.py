"""Where the conv VAE's time goes on XLA:CPU, layer by layer against PyTorch, and the alternatives tried.

- ``--part layers``: each convolution of the conv VAE (batch 128, NHWC for JAX, NCHW for PyTorch) timed
  separately: forward, input gradient (``dx``) and kernel gradient (``dW``), in ms and GFLOP/s.
- ``--part alternatives`` (JAX): the whole training step of the conv VAE (the library's train step) with the
  convolutions computed three ways, timed interleaved in one process: ``xla`` (``lax.conv_general_dilated``,
  what ``nnx.Conv`` does), ``im2col`` (patches by slicing, then one matmul; its gradient is matmuls plus
  a scatter-add of the patches) and ``dw_matmul`` (XLA's convolution forward and input gradient, the
  kernel gradient as one matmul per kernel tap). Also the page faults per step.

Example:
    $ python benchmarks/conv_profile.py --framework jax --part layers
    $ python benchmarks/conv_profile.py --framework torch --part layers
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import emit  # noqa: E402

B = 128
LAYERS = [  # name, input (H, W, Cin), kernel (k, Cout), stride: the conv VAE's convolutions
    ("encoder conv 1->32, stride 2, 28x28", (28, 28, 1), (3, 32), 2),
    ("encoder conv 32->64, stride 2, 14x14", (14, 14, 32), (3, 64), 2),
    ("decoder sub-pixel conv 2x2 64->4*64, 7x7", (7, 7, 64), (2, 256), 1),
    ("decoder sub-pixel conv 2x2 64->4*32, 14x14", (14, 14, 64), (2, 128), 1),
    ("decoder output conv 32->1, 28x28", (28, 28, 32), (3, 1), 1),
]


def _median_ms(fn: Callable[[], Any], sync: Callable[[Any], Any], reps: int = 5, inner: int = 3) -> float:
    sync(fn())
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = None
        for _ in range(inner):
            out = fn()
        sync(out)
        times.append((time.perf_counter() - t0) / inner * 1e3)
    return statistics.median(times)


def _flops(hw: tuple[int, int, int], kc: tuple[int, int], stride: int) -> float:
    h, w, cin = hw
    k, cout = kc
    ho, wo = -(-h // stride), -(-w // stride)
    return 2.0 * B * ho * wo * k * k * cin * cout


def layers_jax() -> list[dict[str, Any]]:
    """Forward, input-gradient and kernel-gradient time of each convolution with ``lax.conv_general_dilated``."""
    import jax
    import numpy as np
    from jax import lax

    rng = np.random.default_rng(0)
    dn = ("NHWC", "HWIO", "NHWC")
    out = []
    for name, (h, w, cin), (k, cout), s in LAYERS:
        x = jax.device_put(rng.standard_normal((B, h, w, cin), np.float32))
        kern = jax.device_put(rng.standard_normal((k, k, cin, cout), np.float32))

        def conv(x: Any, kern: Any, s: int = s) -> Any:
            return lax.conv_general_dilated(x, kern, (s, s), "SAME", dimension_numbers=dn)

        g = jax.device_put(rng.standard_normal(conv(x, kern).shape, np.float32))
        fwd = jax.jit(conv)
        dx = jax.jit(lambda x, kern, g, conv=conv: jax.vjp(lambda a: conv(a, kern), x)[1](g)[0])
        dw = jax.jit(lambda x, kern, g, conv=conv: jax.vjp(lambda b: conv(x, b), kern)[1](g)[0])
        sync = jax.block_until_ready
        times = {
            "fwd": _median_ms(lambda: fwd(x, kern), sync),
            "dx": _median_ms(lambda: dx(x, kern, g), sync),
            "dW": _median_ms(lambda: dw(x, kern, g), sync),
        }
        out.append({"layer": name, "gflop": _flops((h, w, cin), (k, cout), s) / 1e9, **times})
    return out


def layers_torch() -> list[dict[str, Any]]:
    """The same with ``torch.nn.functional.conv2d`` (NCHW) and its gradients."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    out = []
    for name, (h, w, cin), (k, cout), s in LAYERS:
        x = torch.randn(B, cin, h, w)
        pad = k // 2
        if k % 2 == 0:  # 'SAME' for an even kernel pads after: pad the input, no conv padding
            x, pad = F.pad(x, (0, 1, 0, 1)), 0
        kern = torch.randn(cout, cin, k, k)
        y = F.conv2d(x, kern, stride=s, padding=pad)
        g = torch.randn_like(y)
        times = {
            "fwd": _median_ms(lambda: F.conv2d(x, kern, stride=s, padding=pad), lambda o: o),
            "dx": _median_ms(lambda: torch.nn.grad.conv2d_input(x.shape, kern, g, stride=s, padding=pad), lambda o: o),
            "dW": _median_ms(lambda: torch.nn.grad.conv2d_weight(x, kern.shape, g, stride=s, padding=pad), lambda o: o),
        }
        out.append({"layer": name, "gflop": _flops((h, w, cin), (k, cout), s) / 1e9, **times})
    return out


def _pads(size: int, k: int, s: int) -> tuple[int, int, int]:
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def _tap(xp: Any, dy: int, dx: int, ho: int, wo: int, s: int) -> Any:
    from jax import lax

    b, _, _, c = xp.shape
    return lax.slice(xp, (0, dy, dx, 0), (b, dy + (ho - 1) * s + 1, dx + (wo - 1) * s + 1, c), (1, s, s, 1))


def conv_im2col(x: Any, kern: Any, s: int) -> Any:
    """'SAME' convolution as patches (9 strided slices, concatenated) times the reshaped kernel."""
    import jax.numpy as jnp

    k, _, cin, cout = kern.shape
    b, h, w, _ = x.shape
    ho, p0, p1 = _pads(h, k, s)
    wo, q0, q1 = _pads(w, k, s)
    xp = jnp.pad(x, ((0, 0), (p0, p1), (q0, q1), (0, 0)))
    patches = jnp.concatenate([_tap(xp, dy, dx, ho, wo, s) for dy in range(k) for dx in range(k)], axis=-1)
    return (patches.reshape(-1, k * k * cin) @ kern.reshape(k * k * cin, cout)).reshape(b, ho, wo, cout)


def make_conv_dw_matmul() -> Callable[..., Any]:
    """XLA's convolution, with the kernel gradient computed as one matmul per kernel tap."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    dn = ("NHWC", "HWIO", "NHWC")

    def conv(x: Any, kern: Any, s: int) -> Any:
        return lax.conv_general_dilated(x, kern, (s, s), "SAME", dimension_numbers=dn)

    def bwd(s: int, res: Any, g: Any) -> Any:
        x, kern = res
        k, _, cin, cout = kern.shape
        _, vjp_x = jax.vjp(lambda a: conv(a, kern, s), x)
        b, h, w, _ = x.shape
        ho, p0, p1 = _pads(h, k, s)
        wo, q0, q1 = _pads(w, k, s)
        xp = jnp.pad(x, ((0, 0), (p0, p1), (q0, q1), (0, 0)))
        g2 = g.reshape(-1, cout)
        taps = [_tap(xp, dy, dx, ho, wo, s).reshape(-1, cin).T @ g2 for dy in range(k) for dx in range(k)]
        return vjp_x(g)[0], jnp.stack(taps).reshape(k, k, cin, cout)

    fn = jax.custom_vjp(conv, nondiff_argnums=(2,))
    fn.defvjp(lambda x, kern, s: (conv(x, kern, s), (x, kern)), bwd)
    return fn


def alternatives(steps: int = 4, repeats: int = 4) -> list[dict[str, Any]]:
    """Whole conv-VAE training steps with each convolution implementation, interleaved."""
    import jax
    import optax
    from flax import nnx

    from artifex_plugins.data import load_mnist
    from artifex_core.data import epoch_permutation, host_splits, put_split
    from artifex_core.training import StepSpec, make_train_step
    from jax_bench import build

    ds = load_mnist()
    x_train, _ = host_splits(ds, "dynamic")
    split = put_split(x_train, None)
    key = jax.random.key(0)
    perm = epoch_permutation(key, 0, split.size)
    original = nnx.Conv.__call__
    impls: dict[str, Any] = {"xla": None, "im2col": conv_im2col, "dw_matmul": make_conv_dw_matmul()}
    runs: dict[str, Callable[[int], Any]] = {}
    for name, fn in impls.items():
        if fn is not None:
            def call(self: Any, x: Any, fn: Any = fn) -> Any:
                stride = self.strides if isinstance(self.strides, int) else self.strides[0]
                return fn(x, self.kernel[...], stride) + self.bias[...]

            nnx.Conv.__call__ = call
        try:
            model, _ = build("conv")
            model.train()
            graphdef, params, rest = nnx.split(model, nnx.Param, ...)
            tx = optax.adam(1e-3)
            train = make_train_step(graphdef, tx, StepSpec(B, False, True))
            state = [params, rest, tx.init(params)]

            def run(n: int, train: Any = train, state: list[Any] = state) -> Any:
                m = None
                for i in range(n):
                    state[0], state[1], state[2], m = train(*state, split, perm, key, i, i % 400, num_steps=1)
                return jax.block_until_ready(m)

            run(2)  # compile (the patched __call__ is traced now)
        finally:
            nnx.Conv.__call__ = original
        runs[name] = run
    rates: dict[str, list[float]] = {k: [] for k in runs}
    faults: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter()
            run(steps)
            rates[name].append(steps / (time.perf_counter() - t0))
            faults[name].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / steps)
    return [
        {"impl": k, "steps_per_s": statistics.median(v), "all": v, "page_faults_per_step": statistics.median(faults[k])}
        for k, v in rates.items()
    ]


def main(argv: list[str] | None = None) -> None:
    """Run one part for one framework and print it as a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=["jax", "torch"], default="jax")
    parser.add_argument("--part", choices=["layers", "alternatives"], default="layers")
    args = parser.parse_args(argv)
    if args.part == "alternatives":
        if args.framework != "jax":
            parser.error("--part alternatives is JAX only")
        emit({"kind": "conv_alternatives", "results": alternatives()})
    else:
        rows = layers_jax() if args.framework == "jax" else layers_torch()
        emit({"kind": "conv_layers", "framework": args.framework, "results": rows})


if __name__ == "__main__":
    main()
