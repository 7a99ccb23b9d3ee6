"""Multi-process training on JAX's distributed runtime, on localhost: real ``artifex train`` processes.

Two processes with two forced CPU devices each (gloo collectives) train exactly as one process with four
devices; a crash after epoch 1 of the 2-process run, resumed by two processes, continues exactly; only
process 0 writes the run folder (orbax writes the checkpoints collectively); a coordinator that nobody runs
ends the process with one line within the timeout. Every process has a timeout, so a hang fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

TINY = [
    "train", "--model", "vae", "--set", "hidden_dims=[16]", "--set", "latent_dim=2", "--limit", "128",
    "--batch-size", "32", "--epochs", "2", "--seed", "3", "--quiet",
]
LIMIT_S = 240  # per launch: a hang fails instead of blocking CI


CACHE = {"dir": ""}  # one XLA compilation cache for the module: the resume reuses the 2-process programs


def _env(devices: int) -> dict[str, str]:
    return {
        **({"ARTIFEX_CACHE_DIR": CACHE["dir"]} if CACHE["dir"] else {}),
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin",
        "PYTHONUNBUFFERED": "1",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "artifex_core.cli", *args]


def _launch(args: list[str], processes: int, devices: int) -> list[subprocess.CompletedProcess[str]]:
    """Run ``artifex ARGS`` as ``processes`` processes of one run (``devices`` CPU devices each)."""
    if processes == 1:
        return [subprocess.run(_cli(args), env=_env(devices), capture_output=True, text=True, timeout=LIMIT_S)]
    port = _free_port()
    procs = [
        subprocess.Popen(
            _cli([*args, "--coordinator", f"127.0.0.1:{port}", "--num-processes", str(processes),
                  "--process-id", str(i), "--distributed-timeout", "120"]),
            env=_env(devices), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(processes)
    ]
    deadline = time.monotonic() + LIMIT_S
    done = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return done


def _ok(results: list[subprocess.CompletedProcess[str]]) -> None:
    for i, r in enumerate(results):
        assert r.returncode == 0, f"process {i} exited {r.returncode}: {r.stderr[-3000:]}"


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def _close(a: dict, b: dict, where: str) -> None:
    for split in ("train", "test"):
        assert a[split].keys() == b[split].keys(), where
        for key in a[split]:
            assert abs(a[split][key] - b[split][key]) <= 1e-4 * max(1.0, abs(b[split][key])), (
                f"{where} {split}.{key}: {a[split][key]} != {b[split][key]}"
            )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 1-process x 4-device run, and 2-process x 2-device runs (device-resident, streamed) of the same config."""
    root = tmp_path_factory.mktemp("dist")
    CACHE["dir"] = str(root / "xla-cache")
    one, two, stream = root / "one", root / "two", root / "stream"
    _ok(_launch([*TINY, "--out", str(one)], processes=1, devices=4))
    _ok(_launch([*TINY, "--out", str(two)], processes=2, devices=2))
    _ok(_launch([*TINY, "--out", str(stream), "--set", "train.data_placement=stream"], processes=2, devices=2))
    return {"one": one, "two": two, "stream": stream}


def test_two_processes_train_as_one_process_with_four_devices(runs: dict[str, Path]) -> None:
    one, two = _metrics(runs["one"]), _metrics(runs["two"])
    assert [r["epoch"] for r in two] == [r["epoch"] for r in one] == [1, 2]
    for a, b in zip(two, one, strict=True):
        _close(a, b, f"epoch {a['epoch']}")
    assert two[-1]["test"]["loss"] < two[0]["train"]["loss"]  # it trained
    config = json.loads((runs["two"] / "config.json").read_text())
    assert (config["devices"], config["processes"]) == (4, 2)
    assert (json.loads((runs["one"] / "config.json").read_text())["processes"]) == 1


def test_two_processes_streaming_from_the_host_train_as_one_device_resident_process(
    runs: dict[str, Path],
) -> None:
    stream, one = _metrics(runs["stream"]), _metrics(runs["one"])
    assert [r["epoch"] for r in stream] == [r["epoch"] for r in one] == [1, 2]
    for a, b in zip(stream, one, strict=True):
        _close(a, b, f"streamed epoch {a['epoch']}")
    config = json.loads((runs["stream"] / "config.json").read_text())
    assert (config["devices"], config["processes"]) == (4, 2)
    assert config["train"]["data_placement"] == "stream"  # the override reached the plan, not auto's choice
    assert json.loads((runs["one"] / "config.json").read_text())["train"]["data_placement"] == "device"


def test_only_process_zero_writes_and_orbax_writes_collectively(runs: dict[str, Path]) -> None:
    two = runs["two"]
    assert sorted(p.name for p in two.iterdir() if p.suffix == ".png") == [
        "curves.png", "reconstructions.png", "samples.png", "traversals.png"
    ]
    assert len(_metrics(two)) == 2  # one row per epoch: one writer
    state = two / "checkpoints" / "2" / "state"
    assert (state / "ocdbt.process_0").is_dir() and (state / "ocdbt.process_1").is_dir()  # both saved
    manifest = json.loads((two / "checkpoints" / "2" / "artifex-manifest.json").read_text())
    assert any(name.startswith("state/ocdbt.process_1/") for name in manifest["files"])  # verified on restore


def test_two_process_checkpoint_resumed_by_two_processes_continues_exactly(runs: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    crashed = tmp_path / "crashed"
    shutil.copytree(runs["two"], crashed)
    shutil.rmtree(crashed / "checkpoints" / "2")  # a crash after epoch 1's checkpoint (the row of 2 is dropped)
    results = _launch(["train", "--resume", "--out", str(crashed), "--json"], 2, 2)
    _ok(results)
    summary = json.loads(results[0].stdout)
    assert summary["resumed_from_epoch"] == 1 and results[1].stdout == ""  # process 1 prints nothing
    resumed = _metrics(crashed)
    assert [r["epoch"] for r in resumed] == [1, 2]
    _close(resumed[1], _metrics(runs["two"])[1], "resumed epoch 2")
    _close(resumed[1], _metrics(runs["one"])[1], "resumed epoch 2 vs 1 process")


def test_missing_coordinator_fails_with_one_line_within_the_timeout(tmp_path: Path) -> None:
    port = _free_port()  # nobody listens there
    args = [*TINY, "--out", str(tmp_path / "r"), "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
            "--process-id", "1", "--distributed-timeout", "3"]
    start = time.monotonic()
    proc = subprocess.run(_cli(args), env=_env(2), capture_output=True, text=True, timeout=60)
    took = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("error: process 1 of 2 could not reach the coordinator at 127.0.0.1:")
    assert f"127.0.0.1:{port} within 3 s" in lines[0] and "nothing listens there" in lines[0]
    assert took < 3 + 25  # the timeout plus starting Python under load; JAX alone would abort after 3 + 30 s
    assert not (tmp_path / "r").exists()  # nothing written


def test_coordinator_whose_peers_never_come_fails_within_the_timeout(tmp_path: Path) -> None:
    port = _free_port()
    args = [*TINY, "--out", str(tmp_path / "r"), "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
            "--process-id", "0", "--distributed-timeout", "3"]
    proc = subprocess.run(_cli(args), env=_env(2), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: process 0 of 2, coordinator 127.0.0.1:{port}: not all 2 processes joined within 3 s "
        "(--distributed-timeout or ARTIFEX_DISTRIBUTED_TIMEOUT); start every process with the same --coordinator "
        "and --num-processes"
    ]


def test_a_folder_refused_by_process_zero_stops_every_process(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("someone's work\n")
    results = _launch([*TINY, "--out", str(foreign)], processes=2, devices=2)
    assert results[0].returncode == 2 and "is not an artifex run folder" in results[0].stderr
    assert results[1].returncode == 1, results[1].stderr[-2000:]
    assert "error: process 0 of 2 stopped at 'plan':" in results[1].stderr
    assert "is not an artifex run folder" in results[1].stderr and "Traceback" not in results[1].stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]  # nothing written by either


def test_a_resume_of_a_locked_run_stops_every_process(runs: dict[str, Path], tmp_path: Path) -> None:
    from artifex_core.training import RunLock

    locked = tmp_path / "locked"
    shutil.copytree(runs["two"], locked)
    before = (locked / "metrics.jsonl").read_bytes()
    with RunLock(locked, command="a test holding the lock"):  # process 0 alone checks the lock
        start = time.monotonic()
        results = _launch(["train", "--resume", "--epochs", "3", "--out", str(locked)], 2, 2)
        took = time.monotonic() - start
    assert results[0].returncode == 2 and "a test holding the lock" in results[0].stderr, results[0].stderr[-2000:]
    assert results[1].returncode == 1, results[1].stderr[-2000:]
    assert "error: process 0 of 2 stopped at 'plan': cannot resume:" in results[1].stderr
    assert took < 100  # both stop at once, not after the 120 s --distributed-timeout
    assert (locked / "metrics.jsonl").read_bytes() == before


def test_one_process_reads_a_run_that_two_processes_trained(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "s.png"
    [result] = _launch(["sample", str(runs["two"]), "-n", "4", "-o", str(out), "--json"], processes=1, devices=1)
    _ok([result])
    assert json.loads(result.stdout)["checkpoint_epoch"] == 2 and out.stat().st_size > 0
