"""The multi-process settings: flags and ``JAX_*`` variables resolved and checked before JAX starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from artifex_core.training import (
    DEFAULT_DISTRIBUTED_TIMEOUT_S,
    DistributedConfigError,
    DistributedInitError,
    DistributedSpec,
    initialize_distributed,
    resolve_distributed,
)


def test_no_settings_is_a_single_process_run() -> None:
    assert resolve_distributed(environ={}) is None
    assert resolve_distributed(environ={"ARTIFEX_DISTRIBUTED_TIMEOUT": "5"}) is None


def test_flags_give_the_spec_and_the_default_timeout() -> None:
    spec = resolve_distributed("10.0.0.1:1234", 4, 3, environ={})
    assert spec == DistributedSpec("10.0.0.1:1234", 4, 3, auto=False, timeout_s=DEFAULT_DISTRIBUTED_TIMEOUT_S)
    assert DEFAULT_DISTRIBUTED_TIMEOUT_S == 300 and not spec.is_main
    assert spec.describe() == "process 3 of 4, coordinator 10.0.0.1:1234"


def test_the_jax_variables_fill_in_and_flags_win() -> None:
    env = {"JAX_COORDINATOR_ADDRESS": "h:99", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "1",
           "ARTIFEX_DISTRIBUTED_TIMEOUT": "7.5"}
    assert resolve_distributed(environ=env) == DistributedSpec("h:99", 2, 1, timeout_s=7.5)
    assert resolve_distributed(process_id=0, timeout_s=2, environ=env) == DistributedSpec("h:99", 2, 0, timeout_s=2)


def test_off_ignores_the_variables_and_refuses_flags() -> None:
    env = {"JAX_COORDINATOR_ADDRESS": "h:99", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "1"}
    assert resolve_distributed(mode="off", environ=env) is None
    with pytest.raises(DistributedConfigError, match=r"--distributed off runs one process; drop --process-id"):
        resolve_distributed(process_id=1, mode="off", environ={})


def test_auto_leaves_the_rest_to_jax() -> None:
    assert resolve_distributed(mode="auto", environ={}) == DistributedSpec(None, None, None, auto=True)
    assert resolve_distributed(num_processes=8, mode="auto", environ={}).num_processes == 8


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"num_processes": 2}, {}, "--num-processes is given but --coordinator (or JAX_COORDINATOR_ADDRESS) and "
                                   "--process-id (or JAX_PROCESS_ID) are not"),
        ({"coordinator": "h:1", "process_id": 0}, {}, "--coordinator and --process-id are given but "
                                                      "--num-processes (or JAX_NUM_PROCESSES) is not"),
        ({"coordinator": "h:1", "num_processes": 2, "process_id": 2}, {},
         "--process-id 2 must be below --num-processes 2 (0..1)"),
        ({}, {"JAX_COORDINATOR_ADDRESS": "h:1", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "5"},
         "--process-id 5 must be below --num-processes 2"),
        ({"coordinator": "h:1", "num_processes": 0, "process_id": 0}, {},
         "--num-processes (or JAX_NUM_PROCESSES) must be >= 1, got 0"),
        ({"coordinator": "h:1", "num_processes": 2, "process_id": -1}, {},
         "--process-id (or JAX_PROCESS_ID) must be >= 0, got -1"),
        ({}, {"JAX_NUM_PROCESSES": "two"}, "--num-processes (or JAX_NUM_PROCESSES) must be an integer, got 'two'"),
        ({"coordinator": "localhost", "num_processes": 2, "process_id": 0}, {},
         "--coordinator (or JAX_COORDINATOR_ADDRESS) must be HOST:PORT (a port in 1..65535), got 'localhost'"),
        ({"coordinator": "h:70000", "num_processes": 2, "process_id": 0}, {}, "got 'h:70000'"),
        ({"mode": "slurm"}, {}, "--distributed must be one of auto, off, got 'slurm'"),
        ({"timeout_s": 0}, {}, "--distributed-timeout must be a positive number of seconds, got 0"),
        ({}, {"ARTIFEX_DISTRIBUTED_TIMEOUT": "soon"}, "ARTIFEX_DISTRIBUTED_TIMEOUT must be a number of seconds, "
                                                     "got 'soon'"),
    ],
)
def test_bad_settings_name_the_flag(kwargs: dict, env: dict, message: str) -> None:
    with pytest.raises(DistributedConfigError) as info:
        resolve_distributed(**kwargs, environ=env)
    assert message in str(info.value)


def test_initialize_after_the_devices_exist_is_refused() -> None:
    script = (
        "import jax; jax.devices()\n"
        "from artifex_core.training import DistributedSpec, DistributedInitError, initialize_distributed\n"
        "try:\n    initialize_distributed(DistributedSpec('127.0.0.1:1', 2, 0, timeout_s=1))\n"
        "except DistributedInitError as e:\n    print('REFUSED', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "JAX_PLATFORMS": "cpu"})
    assert "REFUSED cannot join a multi-process run: JAX's devices were already created" in proc.stdout, proc.stderr
    assert DistributedInitError.__mro__[1] is RuntimeError and initialize_distributed is not None
