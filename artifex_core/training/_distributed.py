"""Join a multi-process run on JAX's distributed runtime: resolve the settings, initialize within a timeout.

A multi-process run is the same ``artifex train`` command started once per process. Each process says where
the coordinator (process 0) listens, how many processes there are and which one it is: by flags
(``--coordinator HOST:PORT --num-processes N --process-id I``), or by JAX's own environment variables
(``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``); a flag wins over its variable.
``--distributed auto`` lets JAX detect the cluster (SLURM, Open MPI, Cloud TPU). :func:`resolve_distributed`
checks all of that without importing JAX; :func:`initialize_distributed` then calls
:func:`jax.distributed.initialize`, which must come before anything touches a device.

:func:`jax.distributed.initialize` aborts the whole process (a C++ fatal error, no Python exception) when
the coordinator cannot be reached, or when the other processes do not all join, in its timeout. A watchdog
thread therefore ends the process first, with one line naming the coordinator and the timeout, and exit code
1: a process that cannot join never hangs and never dumps a stack trace.

Example:
    >>> spec = resolve_distributed(coordinator="127.0.0.1:1234", num_processes=2, process_id=1, environ={})
    >>> spec.coordinator, spec.num_processes, spec.process_id, spec.timeout_s, spec.is_main
    ('127.0.0.1:1234', 2, 1, 300.0, False)
    >>> resolve_distributed(environ={}) is None  # a single-process run
    True
    >>> resolve_distributed(num_processes=2, environ={})
    Traceback (most recent call last):
    ...
    artifex_core.training._distributed.DistributedConfigError: --num-processes is given but --coordinator \
(or JAX_COORDINATOR_ADDRESS) and --process-id (or JAX_PROCESS_ID) are not: a multi-process run needs all three, \
or --distributed auto
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_DISTRIBUTED_TIMEOUT_S",
    "DistributedConfigError",
    "DistributedInitError",
    "DistributedSpec",
    "DistributedStepError",
    "agree",
    "initialize_distributed",
    "resolve_distributed",
]

DEFAULT_DISTRIBUTED_TIMEOUT_S = 300.0
"""Seconds a process waits for the coordinator and the other processes (``ARTIFEX_DISTRIBUTED_TIMEOUT``)."""

DistributedMode = Literal["auto", "off"]
_MODES = ("auto", "off")
_GRACE_S = 30
"""JAX's own timeout is this much longer than the watchdog's, so that the watchdog speaks first."""


class DistributedConfigError(ValueError):
    """The multi-process settings are incomplete or inconsistent (a usage error: the message names the flag)."""


class DistributedInitError(RuntimeError):
    """The process could not join the multi-process run (an unreachable coordinator, a missing peer)."""


class DistributedStepError(RuntimeError):
    """Another process of the run failed a step that all must pass (or never reported)."""


_joined: list[DistributedSpec] = []
"""The spec this process joined with (one at most), for :func:`agree`'s timeout."""
_reported: set[str] = set()
"""The steps this process has reported (each once)."""


@dataclass(frozen=True)
class DistributedSpec:
    """How this process joins a multi-process run.

    Attributes:
        coordinator: ``HOST:PORT`` of the coordinator (process 0); None with ``auto`` detection.
        num_processes: Processes in the run; None with ``auto`` detection.
        process_id: This process's index in ``[0, num_processes)``; None with ``auto`` detection.
        auto: Let JAX detect what is not given (SLURM, Open MPI, Cloud TPU).
        timeout_s: Seconds to wait for the coordinator and every process to join.
    """

    coordinator: str | None
    num_processes: int | None
    process_id: int | None
    auto: bool = False
    timeout_s: float = DEFAULT_DISTRIBUTED_TIMEOUT_S

    @property
    def is_main(self) -> bool:
        """Whether this is process 0 (known before JAX starts; ``auto`` detection: unknown, assumed not)."""
        return self.process_id == 0

    def describe(self) -> str:
        """One line for messages: ``process 1 of 2, coordinator 127.0.0.1:1234``."""
        if self.coordinator is None:
            return "the process found by JAX's cluster auto-detection"
        return f"process {self.process_id} of {self.num_processes}, coordinator {self.coordinator}"


def _check_address(address: str, flag: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DistributedConfigError(f"{flag} must be HOST:PORT (a port in 1..65535), got {address!r}")
    return address


def _int_setting(value: int | str | None, flag: str, env: str, minimum: int) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DistributedConfigError(f"{flag} (or {env}) must be an integer, got {value!r}") from None
    if number < minimum:
        raise DistributedConfigError(f"{flag} (or {env}) must be >= {minimum}, got {number}")
    return number


def _timeout(value: float | str | None, environ: Mapping[str, str]) -> float:
    source = "--distributed-timeout"
    if value is None:
        raw = environ.get("ARTIFEX_DISTRIBUTED_TIMEOUT")
        if raw is None or not raw.strip():
            return DEFAULT_DISTRIBUTED_TIMEOUT_S
        value, source = raw, "ARTIFEX_DISTRIBUTED_TIMEOUT"
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise DistributedConfigError(f"{source} must be a number of seconds, got {value!r}") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise DistributedConfigError(f"{source} must be a positive number of seconds, got {value!r}")
    return seconds


def resolve_distributed(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    mode: str | None = None,
    timeout_s: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> DistributedSpec | None:
    """The multi-process settings of flags and environment, checked; None for a single-process run.

    Each flag falls back to its variable (``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``,
    ``JAX_PROCESS_ID``; the timeout to ``ARTIFEX_DISTRIBUTED_TIMEOUT``). Without ``mode="auto"`` the three are
    given together or not at all; ``mode="off"`` ignores the variables (a single process). Imports no JAX.

    Args:
        coordinator: ``--coordinator HOST:PORT``.
        num_processes: ``--num-processes N``.
        process_id: ``--process-id I``.
        mode: ``--distributed``: ``"auto"`` (JAX's cluster detection), ``"off"`` or None (flags/variables).
        timeout_s: ``--distributed-timeout SECONDS`` (default: the variable, else 300).
        environ: The environment (default: ``os.environ``).

    Raises:
        DistributedConfigError: An unknown mode, only some of the three settings, a malformed address, a
            process id outside ``[0, num_processes)``, a timeout that is not a positive number.
    """
    env = os.environ if environ is None else environ
    if mode is not None and mode not in _MODES:
        raise DistributedConfigError(f"--distributed must be one of {', '.join(_MODES)}, got {mode!r}")
    if mode == "off":
        given = [f for f, v in (("--coordinator", coordinator), ("--num-processes", num_processes),
                                ("--process-id", process_id)) if v is not None]
        if given:
            raise DistributedConfigError(f"--distributed off runs one process; drop {', '.join(given)}")
        return None
    timeout = _timeout(timeout_s, env)
    address = coordinator if coordinator is not None else env.get("JAX_COORDINATOR_ADDRESS") or None
    count = _int_setting(
        num_processes if num_processes is not None else env.get("JAX_NUM_PROCESSES") or None,
        "--num-processes", "JAX_NUM_PROCESSES", 1,
    )
    index = _int_setting(
        process_id if process_id is not None else env.get("JAX_PROCESS_ID") or None,
        "--process-id", "JAX_PROCESS_ID", 0,
    )
    if address is not None:
        _check_address(address, "--coordinator (or JAX_COORDINATOR_ADDRESS)")
    if count is not None and index is not None and index >= count:
        raise DistributedConfigError(f"--process-id {index} must be below --num-processes {count} (0..{count - 1})")
    if mode == "auto":
        return DistributedSpec(address, count, index, auto=True, timeout_s=timeout)
    named = {
        "--coordinator (or JAX_COORDINATOR_ADDRESS)": address,
        "--num-processes (or JAX_NUM_PROCESSES)": count,
        "--process-id (or JAX_PROCESS_ID)": index,
    }
    missing = [name for name, value in named.items() if value is None]
    if len(missing) == 3:
        return None
    if missing:
        have = [name.split(" ")[0] for name, value in named.items() if value is not None]
        verb = "is" if len(have) == 1 else "are"
        raise DistributedConfigError(
            f"{' and '.join(have)} {verb} given but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not: a multi-process run needs all three, or --distributed auto"
        )
    assert address is not None and count is not None and index is not None
    return DistributedSpec(address, count, index, timeout_s=timeout)


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def _failure_message(spec: DistributedSpec) -> str:
    seconds = f"{spec.timeout_s:g} s"
    hint = "(--distributed-timeout or ARTIFEX_DISTRIBUTED_TIMEOUT)"
    if spec.coordinator is None:
        return f"could not join the multi-process run (cluster auto-detection) within {seconds} {hint}"
    if spec.process_id != 0 and not _listening(spec.coordinator):
        return (
            f"process {spec.process_id} of {spec.num_processes} could not reach the coordinator at "
            f"{spec.coordinator} within {seconds} {hint}: nothing listens there; start process 0 with "
            f"--coordinator {spec.coordinator} first, or check the address"
        )
    return (
        f"{spec.describe()}: not all {spec.num_processes} processes joined within {seconds} {hint}; "
        "start every process with the same --coordinator and --num-processes"
    )


def _set_cpu_collectives() -> None:
    """Cross-process collectives on CPU through gloo (JAX's default today; set in case it is not)."""
    import jax

    if getattr(jax.config, "jax_cpu_collectives_implementation", "gloo") in (None, "none"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")


def initialize_distributed(spec: DistributedSpec, *, exit_on_timeout: bool = True) -> None:
    """Join the run: :func:`jax.distributed.initialize` as ``spec`` says, before anything touches a device.

    A watchdog ends the process with ``error: <message>`` on stderr and exit code 1 when joining takes longer
    than ``spec.timeout_s`` (JAX itself would abort the process with a C++ stack trace a little later).

    Args:
        spec: From :func:`resolve_distributed`.
        exit_on_timeout: End the process on a timeout (the CLI). False: only JAX's own (fatal) timeout.

    Raises:
        DistributedInitError: JAX's backend is already running (initialize must come first), or JAX refused
            the settings.
    """
    import jax
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        raise DistributedInitError(
            "cannot join a multi-process run: JAX's devices were already created in this process "
            "(jax.distributed.initialize must run before anything touches a device)"
        )
    _set_cpu_collectives()
    done = threading.Event()
    started = time.monotonic()

    def watchdog() -> None:
        if done.wait(spec.timeout_s):
            return
        message = _failure_message(spec)
        if done.is_set():  # joined while the message was being made
            return
        sys.stderr.write(f"error: {message}\n")
        sys.stderr.flush()
        os._exit(1)

    if exit_on_timeout:
        threading.Thread(target=watchdog, name="artifex-distributed-watchdog", daemon=True).start()
    try:
        jax.distributed.initialize(
            coordinator_address=spec.coordinator,
            num_processes=spec.num_processes,
            process_id=spec.process_id,
            initialization_timeout=int(spec.timeout_s + 0.999) + (_GRACE_S if exit_on_timeout else 0),
        )
    except (RuntimeError, ValueError, TypeError) as exc:
        raise DistributedInitError(
            f"cannot join the multi-process run ({spec.describe()}) after {time.monotonic() - started:.1f} s: {exc}"
        ) from None
    finally:
        done.set()
    _joined[:] = [spec]


def agree(step: str, error: str | None = None) -> None:
    """Every process reports how ``step`` went, and learns how it went in the others, before going on.

    A process that failed (``error`` given) reports it and returns at once, to raise its own error. Each
    step is reported once: a later call for the same step does nothing. One that
    succeeded waits (at most the run's ``--distributed-timeout``) for every other process's report, so that a
    check made by process 0 alone (the run folder's lock, say) stops every process with its message instead
    of leaving them in a collective that never completes. A no-op outside a multi-process run.

    Args:
        step: A name for the step, the same in every process (``"plan"``).
        error: This process's failure, or None.

    Raises:
        DistributedStepError: Another process failed ``step`` (the message names it and quotes its error), or
            did not report within the timeout.
    """
    if not _joined or step in _reported:
        return
    import jax
    from jax._src import distributed

    client = distributed.global_state.client
    if client is None or jax.process_count() == 1:
        return
    me, count, timeout_s = jax.process_index(), jax.process_count(), _joined[0].timeout_s
    client.key_value_set_bytes(f"artifex/{step}/{me}", ("error:" + error if error else "ok").encode())
    _reported.add(step)
    if error is not None:
        return
    deadline = time.monotonic() + timeout_s
    for other in range(count):
        if other == me:
            continue
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))
        try:
            value = client.blocking_key_value_get_bytes(f"artifex/{step}/{other}", left_ms).decode()
        except Exception:  # noqa: BLE001 - a timeout, or the coordinator gone: the same for the user
            raise DistributedStepError(
                f"process {other} of {count} did not finish {step!r} within {timeout_s:g} s "
                "(--distributed-timeout); see its own output"
            ) from None
        if value.startswith("error:"):
            raise DistributedStepError(f"process {other} of {count} stopped at {step!r}: {value[6:]}")
