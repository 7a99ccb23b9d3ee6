"""Data parallelism: a run sharded over 4 (fake CPU) devices matches the single-device run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).parent

SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {here!r})
    import jax
    import numpy as np
    from flax import nnx
    from toy_vae import DATA, ToyVAE, params_of
    from artifex_core.training import TrainConfig, Trainer
    from artifex_core.training import TrainConfigError
    from artifex_core.training import enable_compile_cache
    from artifex_core.training import replicated_sharding

    enable_compile_cache()  # in ARTIFEX_CACHE_DIR: the lowering below reuses the fits' compilations

    cfg = TrainConfig(epochs=2, batch_size=32, eval_batch_size=32, log_every=4, steps_per_dispatch=2, binarize="dynamic")
    out = {{"devices": jax.device_count()}}
    runs = {{}}
    for name, devices in (("single", jax.devices()[:1]), ("sharded", jax.devices())):
        model = ToyVAE((6, 6, 1), rngs=nnx.Rngs(0))
        trainer = Trainer(model, cfg, DATA, devices=devices)
        result = trainer.fit()
        leaf = jax.tree.leaves(nnx.state(model, nnx.Param))[0]
        runs[name] = (params_of(model), result.history)
        perm = jax.device_put(
            jax.numpy.arange(DATA.train_images.shape[0], dtype=jax.numpy.int32), replicated_sharding(trainer.mesh)
        )
        lowered = trainer._train_fn.lower(
            trainer._state_leaves, trainer.train_split, perm, trainer.binarize_key, 0, 0, 2, num_steps=2,
        )
        hlo = lowered.compile().as_text()
        out[name] = {{
            "mesh": trainer.mesh.size,
            "param_devices": len(leaf.sharding.device_set),
            "all_reduce": "all-reduce" in hlo,
            "train": [r["train"]["loss"] for r in result.history],
            "test": [r["test"]["loss"] for r in result.history],
        }}
    out["max_param_diff"] = max(
        float(np.max(np.abs(a - b))) for a, b in zip(runs["single"][0], runs["sharded"][0], strict=True)
    )
    try:
        Trainer(ToyVAE((6, 6, 1), rngs=nnx.Rngs(0)), cfg.model_copy(update={{"batch_size": 30}}), DATA)
    except TrainConfigError as exc:
        out["error"] = str(exc)
    print("RESULT " + json.dumps(out))
    """
)


def test_four_device_run_matches_single_device(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "ARTIFEX_CACHE_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(here=str(HERE))], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line.removeprefix("RESULT "))
    assert out["devices"] == 4
    assert out["single"]["mesh"] == 1 and out["single"]["param_devices"] == 1
    assert out["sharded"]["mesh"] == 4 and out["sharded"]["param_devices"] == 4  # replicated on all four
    assert out["sharded"]["all_reduce"] and not out["single"]["all_reduce"]  # gradients are summed across shards
    for key in ("train", "test"):
        for a, b in zip(out["single"][key], out["sharded"][key], strict=True):
            assert abs(a - b) <= 1e-4 * max(1.0, abs(a)), (key, a, b)
    assert out["max_param_diff"] < 1e-4
    assert out["error"] == "batch_size 30 does not divide over 4 devices; use a multiple of 4 or data_parallel=false"
