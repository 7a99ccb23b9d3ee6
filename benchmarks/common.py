"""Shared pieces of the benchmark scripts: the benchmarked models, MNIST as NumPy, timing, memory.

Nothing here imports JAX or PyTorch, so each framework is measured in its own process with nothing of the
other loaded (peak memory is the process's own ``ru_maxrss``).

Example:
    >>> spec = MODELS["mlp"]
    >>> spec.hidden_dims, spec.latent_dim, spec.loss
    ((512, 256), 32, 'bce')
    >>> summarize([3.0, 1.0, 2.0])["median"]
    2.0
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MNIST_DIR = ROOT / "artifex_plugins" / "data" / "_mnist"
RESULT_PREFIX = "BENCH_RESULT "


@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked model, as both frameworks build it.

    Attributes:
        name: Short name of the benchmark case.
        kind: ``"mlp"``, ``"conv"`` (CNN encoder/decoder), ``"resnet"`` (ResNet encoder/decoder) or ``"vq"``
            (MLP VQ-VAE).
        hidden_dims: Encoder widths (MLP) or channels of the stride-2 convolutions (conv); the decoder uses
            them reversed.
        latent_dim: Latent size.
        loss: ``"bce"`` (dynamic binarization, Bernoulli likelihood) or ``"mse"``.
        num_embeddings: Codebook size (VQ-VAE).
        embedding_dim: Code width (VQ-VAE).
        label: How the tables name it.
    """

    name: str
    kind: str
    hidden_dims: tuple[int, ...]
    latent_dim: int
    loss: str
    num_embeddings: int = 0
    embedding_dim: int = 0
    label: str = ""

    def model_config(self) -> dict[str, Any]:
        """The artifex ``ModelConfig`` fields of this model (as ``artifex train`` would take them)."""
        network = {"conv": "cnn", "resnet": "resnet"}.get(self.kind, "mlp")
        cfg: dict[str, Any] = {
            "model": "vqvae" if self.kind == "vq" else "vae",
            "input_dim": [28, 28, 1],
            "encoder": network,
            "decoder": network,
            "hidden_dims": list(self.hidden_dims),
            "latent_dim": self.latent_dim,
            "activation": "relu",
            "parameters": {"reconstruction_loss_type": self.loss},
        }
        if self.kind == "vq":
            cfg["parameters"].update(num_embeddings=self.num_embeddings, embedding_dim=self.embedding_dim)
        return cfg


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec("mlp", "mlp", (512, 256), 32, "bce", label="MLP VAE 784-512-256-32"),
    "conv": ModelSpec("conv", "conv", (32, 64), 32, "bce", label="conv VAE (CNN 32-64, 28x28x1)"),
    "resnet": ModelSpec("resnet", "resnet", (32, 64), 32, "bce", label="ResNet VAE (2 stages 32-64, 28x28x1)"),
    "vq": ModelSpec("vq", "vq", (512, 256), 64, "mse", 128, 16, label="VQ-VAE 784-512-256-64, K=128"),
    "flax_mlp": ModelSpec("flax_mlp", "mlp", (500,), 20, "bce", label="Flax-example MLP 784-500-20"),
}
"""The benchmark cases. ``mlp`` is the issue's MLP VAE, ``vq`` the ``artifex train --model vqvae`` recipe."""


@dataclass
class Result:
    """One measured configuration: a framework variant training one model."""

    framework: str
    variant: str
    case: str
    batch_size: int
    steps_per_s: float = 0.0
    steps_per_s_all: list[float] = field(default_factory=list)
    compile_s: float | None = None
    peak_rss_mb: float | None = None
    gflop_per_step: float | None = None
    final_loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def examples_per_s(self) -> float:
        """Steps per second times the batch size."""
        return self.steps_per_s * self.batch_size

    def as_dict(self) -> dict[str, Any]:
        """The fields plus ``examples_per_s``."""
        return {**asdict(self), "examples_per_s": self.examples_per_s}


def read_idx(path: Path) -> np.ndarray:
    """Read a gzip'ed IDX file (the MNIST format) into a NumPy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mnist_train_images(limit: int | None = None) -> np.ndarray:
    """The packaged MNIST training images as ``uint8`` ``(N, 28, 28)``."""
    images = read_idx(MNIST_DIR / "train-images-idx3-ubyte.gz")
    return images[:limit] if limit else images


def mnist_test_images() -> np.ndarray:
    """The packaged MNIST test images as ``uint8`` ``(10000, 28, 28)``."""
    return read_idx(MNIST_DIR / "t10k-images-idx3-ubyte.gz")


def summarize(values: list[float]) -> dict[str, float]:
    """Median, min and max of ``values``."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def time_repeats(run: Callable[[], None], steps: int, repeats: int) -> list[float]:
    """Steps per second of ``run()`` (which performs ``steps`` steps and blocks), once per repeat."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        rates.append(steps / (time.perf_counter() - t0))
    return rates


MAX_REPEAT_S = float(os.environ.get("BENCH_MAX_REPEAT_S", "4"))
"""Upper bound on one timed repeat: fewer steps per repeat when a step is slow (e.g. on a busy machine)."""


def warm_and_time(run: Callable[[int], None], max_calls: int, steps_per_call: int, repeats: int) -> tuple[list[float], int]:
    """Warm up ``run(n)`` (which performs ``n`` calls and blocks), then time ``repeats`` repeats.

    The warm-up is a quarter of ``max_calls`` (at least one call); each timed repeat makes ``max_calls``
    calls, or fewer when that would take longer than :data:`MAX_REPEAT_S` at the warm-up's speed.

    Returns:
        Steps per second of each repeat, and the calls per repeat used.
    """
    warm = max(1, max_calls // 4)
    t0 = time.perf_counter()
    run(warm)
    per_call = (time.perf_counter() - t0) / warm
    calls = max(1, min(max_calls, int(MAX_REPEAT_S / max(per_call, 1e-9))))
    return time_repeats(lambda: run(calls), calls * steps_per_call, repeats), calls


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(result: Result | dict[str, Any]) -> None:
    """Print one result as the JSON line the driver collects."""
    payload = result.as_dict() if isinstance(result, Result) else result
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


def parse_results(stdout: str) -> list[dict[str, Any]]:
    """The results a worker printed with :func:`emit`."""
    return [json.loads(line[len(RESULT_PREFIX) :]) for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


def machine_info() -> dict[str, Any]:
    """CPU model, core count, memory and Python version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
