"""Faults injected into real ``artifex`` processes: kill -9 anywhere, damaged checkpoints, a full disk, two
trainings on one folder, foreign folders and symlinks. Each case checks what a user sees: the exit code, one
clear line (no traceback, no asyncio noise), and a run folder that resumes to the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

DRIVER = Path(__file__).with_name("fault_driver.py")
TIMES = ("epoch_time_s", "eval_time_s", "examples_per_s", "elapsed_s")
NOISE = ("Traceback", "Event loop is closed", "Exception ignored")

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.getbasetemp() / "artifex-cache"
    return {**os.environ, "ARTIFEX_CACHE_DIR": str(cache), "ARTIFEX_DISABLE_PLUGINS": "artifex-brokenplugin"}


@pytest.fixture(scope="module")
def npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    x = (rng.random((160, 6, 6)) < 0.3).astype(np.uint8) * 255
    path = tmp_path_factory.mktemp("data") / "dots.npz"
    np.savez(path, x=x, y=rng.integers(0, 3, 160))
    return path


def train_args(npz: Path, out: Path, epochs: int = 3) -> list[str]:
    return ["train", "--dataset", str(npz), "--epochs", str(epochs), "--out", str(out), "--quiet",
            "--batch-size", "32", "--set", "hidden_dims=[8]", "--set", "latent_dim=2", "--set", "warmup_steps=2"]


def resume_args(out: Path, *extra: str) -> list[str]:
    return ["train", "--resume", "--out", str(out), "--quiet", *extra]


def artifex(args: list[str], env: dict[str, str], *, driver: tuple[str, int] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    head = [sys.executable, str(DRIVER), driver[0], str(driver[1])] if driver else [sys.executable, "-m", "artifex_core.cli"]
    return subprocess.run([*head, *args], env=env, capture_output=True, text=True, timeout=timeout)


def rows(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def steady(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in TIMES}


def clean(proc: subprocess.CompletedProcess[str]) -> None:
    for noise in NOISE:
        assert noise not in proc.stderr + proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def uninterrupted(npz: Path, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("full") / "run"
    proc = artifex(train_args(npz, out), env)
    assert proc.returncode == 0, proc.stderr
    return rows(out)


def resume_and_check(out: Path, npz: Path, env: dict[str, str], full: list[dict[str, Any]]) -> None:
    """``--resume`` (or, killed before config.json existed, the same command again) ends as ``full`` does."""
    proc = artifex(resume_args(out, "--epochs", "3"), env)
    if not (out / "config.json").exists():
        said = ("run the same command again without --resume", "does not exist")
        assert proc.returncode == 2 and any(s in proc.stderr for s in said), proc.stderr
        proc = artifex(train_args(npz, out), env)
    assert proc.returncode == 0, proc.stderr
    clean(proc)
    history = rows(out)
    epochs = [r["epoch"] for r in history]
    assert epochs == [1, 2, 3]  # strictly increasing, exactly once
    assert steady(history[-1]) == steady(full[-1])


KILLS = [
    ("config", 1),  # before anything was trained
    ("log", 1),  # mid-epoch 1
    ("metrics-after", 1),  # epoch 1 logged, its checkpoint not yet written: used to end [1, 1, 2]
    ("finalize", 1),  # inside the first checkpoint write
    ("manifest", 1),  # checkpoint renamed into place, its manifest not yet
    ("pictures", 2),  # while redrawing the pictures of epoch 1
    ("metrics-before", 3),  # epoch 3 evaluated, not yet logged
    ("finalize", 3),  # inside the last checkpoint write
]


@pytest.mark.parametrize(("site", "n"), KILLS, ids=[f"{s}-{n}" for s, n in KILLS])
def test_kill_9_at_a_moment_then_resume_gives_the_uninterrupted_history(
    site: str, n: int, npz: Path, env: dict[str, str], uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    killed = artifex(train_args(npz, out), env, driver=(site, n))
    assert killed.returncode == -signal.SIGKILL, f"the {site} #{n} fault was never reached: {killed.stderr}"
    resume_and_check(out, npz, env, uninterrupted)


@pytest.mark.parametrize("fraction", [0.35, 0.7])
def test_kill_9_from_outside_at_a_random_moment(
    fraction: float, npz: Path, env: dict[str, str], uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    start = time.perf_counter()
    artifex(train_args(npz, tmp_path / "timing"), env)
    duration = time.perf_counter() - start
    proc = subprocess.Popen([sys.executable, "-m", "artifex_core.cli", *train_args(npz, out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(duration * fraction)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    resume_and_check(out, npz, env, uninterrupted)


def test_resume_with_every_checkpoint_gone_restarts_without_duplicating_history(
    npz: Path, env: dict[str, str], uninterrupted: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert artifex(train_args(npz, out, epochs=2), env).returncode == 0
    for item in (out / "checkpoints").iterdir():
        if item.is_dir():
            import shutil

            shutil.rmtree(item)
    resume_and_check(out, npz, env, uninterrupted)  # used to end [1, 2, 1, 2, 3]


@pytest.fixture(scope="module")
def finished(npz: Path, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    assert artifex(train_args(npz, out), env).returncode == 0
    return out


def damaged_copy(finished: Path, tmp_path: Path, how: str, epochs: tuple[int, ...] = (3,)) -> Path:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(finished, out)
    for epoch in epochs:
        step = out / "checkpoints" / str(epoch)
        data = sorted(p for p in (step / "state").rglob("*") if p.is_file() and p.stat().st_size > 100)[0]
        if how == "truncated":
            data.write_bytes(data.read_bytes()[:7])
        elif how == "garbled":
            raw = bytearray(data.read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            data.write_bytes(bytes(raw))
        elif how == "missing":
            data.unlink()
        elif how == "meta":
            (step / "meta" / "metadata").write_text("{not json")
    return out


@pytest.mark.parametrize("how", ["truncated", "garbled", "missing", "meta"])
def test_a_damaged_newest_checkpoint_falls_back_with_one_warning(
    how: str, finished: Path, npz: Path, env: dict[str, str], tmp_path: Path
) -> None:
    out = damaged_copy(finished, tmp_path, how)
    for args in (["sample", str(out), "-n", "4", "--json"], ["evaluate", str(out), "--k", "4", "--json"]):
        proc = artifex(args, env)
        assert proc.returncode == 0, proc.stderr
        clean(proc)
        warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1 and "checkpoint 3" in warnings[0] and "using checkpoint 2" in warnings[0]
        assert json.loads(proc.stdout)["checkpoint_epoch"] == 2
    proc = artifex(resume_args(out, "--epochs", "4"), env)
    assert proc.returncode == 0, proc.stderr
    clean(proc)
    assert sum(line.startswith("warning:") for line in proc.stderr.splitlines()) == 1
    assert [r["epoch"] for r in rows(out)] == [1, 2, 3, 4]
    assert list((out / "checkpoints.damaged").iterdir())  # kept aside, not deleted
    assert artifex(["sample", str(out), "-n", "4"], env).stderr == ""  # healthy again


def test_no_good_checkpoint_is_one_line_naming_the_run(finished: Path, env: dict[str, str], tmp_path: Path) -> None:
    out = damaged_copy(finished, tmp_path, "truncated", epochs=(1, 2, 3))
    for args in (["sample", str(out)], ["evaluate", str(out)], ["train", "--resume", "--out", str(out)]):
        proc = artifex(args, env)
        assert proc.returncode == 1, proc.stderr
        clean(proc)
        # evaluate's progress lines (stderr, "evaluate: loading ...") come first; the error is one line
        lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("evaluate: ")]
        assert len(lines) == 1 and lines[0].startswith("error:") and str(out) in lines[0], lines
        assert "truncated" in lines[0]


def test_a_foreign_folder_is_refused_and_left_untouched(npz: Path, env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.json").write_text('{"my": "own config"}')
    (out / "samples.png").write_bytes(b"my picture")
    (out / "metrics.jsonl").write_text('{"epoch": 7}\n')
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    for args in (train_args(npz, out), resume_args(out)):
        proc = artifex(args, env)
        assert proc.returncode == 2, proc.stderr
        clean(proc)
        assert "not an artifex run folder" in proc.stderr
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == before


def test_symlinks_in_a_run_folder_are_replaced_not_written_through(
    npz: Path, env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert artifex(train_args(npz, out, epochs=1), env).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    originals = {}
    for name in ("samples.png", "metrics.jsonl", "config.json"):
        target = elsewhere / name
        originals[name] = (out / name).read_bytes()  # the link leads to a copy that must stay as it is
        target.write_bytes(originals[name])
        (out / name).unlink()
        (out / name).symlink_to(target)
    proc = artifex(resume_args(out, "--epochs", "2"), env)
    assert proc.returncode == 0, proc.stderr
    for name in ("samples.png", "metrics.jsonl", "config.json"):
        assert (elsewhere / name).read_bytes() == originals[name]
        assert not (out / name).is_symlink() and (out / name).read_bytes() != originals[name]


def test_two_trainings_on_one_folder_the_second_exits_2_naming_the_holder(
    npz: Path, env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "artifex_core.cli", *train_args(npz, out, epochs=30)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "checkpoints" / "1").is_dir():
            assert first.poll() is None and time.time() < deadline, "the first run did not start"
            time.sleep(0.1)
        for args in (train_args(npz, out), resume_args(out)):
            second = artifex(args, env)
            assert second.returncode == 2, second.stderr
            clean(second)
            assert f"in use by pid {first.pid}" in second.stderr
        reader = artifex(["sample", str(out), "-n", "4", "-o", str(tmp_path / "s.png")], env)
        assert reader.returncode == 0, reader.stderr  # reading works while the run writes
    finally:
        first.kill()
        first.wait(timeout=60)
    resumed = artifex(resume_args(out, "--epochs", "2"), env)  # the dead holder's lock is stale
    assert resumed.returncode == 0, resumed.stderr
    epochs = [r["epoch"] for r in rows(out)]
    assert epochs == sorted(set(epochs))


def test_a_diverging_resume_does_not_keep_its_override(npz: Path, env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert artifex(train_args(npz, out, epochs=1), env).returncode == 0
    blown = artifex(resume_args(out, "--epochs", "3", "--lr", "1e12"), env)
    assert blown.returncode == 1 and "loss became" in blown.stderr, blown.stderr
    assert "a plain --resume continues with" in blown.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["lr"] != 1e12 and config["train"]["epochs"] == 1
    last = config["segments"][-1]
    assert last["status"] == "diverged" and last["from_epoch"] == 1 and last["changes"]["lr"][1] == 1e12
    again = artifex(resume_args(out, "--epochs", "2"), env)
    assert again.returncode == 0, again.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["segments"][-1]["changes"] == {"epochs": [1, 2]} and config["segments"][-1]["status"] == "finished"


def _tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_full_disk_is_one_line_and_keeps_the_checkpoints(npz: Path, env: dict[str, str], tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "4M"):
        pytest.skip("needs root and tmpfs to make a small disk")
    try:
        out = disk / "run"
        assert artifex(train_args(npz, out, epochs=1), env).returncode == 0
        stat = os.statvfs(disk)
        filler = disk / "filler"
        filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - 8192))
        proc = artifex(resume_args(out, "--epochs", "3"), env)
        assert proc.returncode == 1
        clean(proc)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "no space left on device" in lines[0], lines
        filler.unlink()
        assert artifex(["sample", str(out), "-n", "4"], env).returncode == 0  # checkpoint 1 intact
        assert artifex(resume_args(out, "--epochs", "2"), env).returncode == 0
        assert [r["epoch"] for r in rows(out)] == [1, 2]
        assert not list((out / "checkpoints").glob("*tmp*"))  # the partial checkpoint was cleaned up
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_a_model_too_big_for_memory_is_refused_before_allocating(npz: Path, env: dict[str, str], tmp_path: Path) -> None:
    args = [*train_args(npz, tmp_path / "run"), "--set", "hidden_dims=[300000,300000]"]
    proc = artifex(args, env, timeout=120)
    assert proc.returncode == 1
    clean(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "GB of parameters" in lines[0] and "needs about" in lines[0], lines
