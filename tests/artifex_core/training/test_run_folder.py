"""The run folder is the user's data: ownership marker, refusal of foreign folders, exactly-once metrics,
the writer's lock, and the record of what each ``--resume`` changed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from artifex_core.training import RunDir, RunDirError
from artifex_core.training import RunLock, RunLockedError
from artifex_core.training._run_lock import holding_lock
from artifex_core.training._segments import end_segment, start_segment


def test_only_empty_or_artifex_folders_are_trainable(tmp_path: Path) -> None:
    RunDir(tmp_path / "new").check_trainable(resume=False)  # missing: fine
    RunDir(tmp_path).check_trainable(resume=False)  # empty: fine
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not empty and is not an artifex run folder"):
        RunDir(tmp_path).check_trainable(resume=True)
    file = tmp_path / "notes.txt"
    with pytest.raises(RunDirError, match="is a file, not a folder"):
        RunDir(file).check_trainable(resume=False)


def test_the_marker_not_file_names_makes_a_folder_artifex_s(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model": {}, "train": {}}))  # artifex's file names only
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n')
    assert not run.is_artifex_run()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-marker"
    elsewhere.write_text(json.dumps({"format": 1}))
    run.marker_path.symlink_to(elsewhere)  # a link is not a marker
    assert not run.is_artifex_run()
    run.marker_path.unlink()
    run.write_marker()
    assert run.is_artifex_run()
    with pytest.raises(RunDirError, match="already holds a trained run; pass --resume"):
        run.check_trainable(resume=False)
    run.check_trainable(resume=True)


def test_a_run_of_artifex_0_1_is_recognised_by_its_config(tmp_path: Path) -> None:
    config = {"model": {"model": "vae"}, "train": {"epochs": 1}, "artifex_version": "0.1.0"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert RunDir(tmp_path).is_artifex_run()


def test_metrics_keep_one_row_per_epoch_in_order(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    for epoch in (1, 2, 3):
        run.append_metrics({"epoch": epoch, "loss": float(epoch)})
    run.append_metrics({"epoch": 2, "loss": 20.0})  # a crashed run's epoch 2 redone: 2 and 3 are replaced
    assert [(r["epoch"], r["loss"]) for r in run.read_metrics()] == [(1, 1.0), (2, 20.0)]
    run.metrics_path.write_text('{"epoch": 1}\n{"epoch": 1}\n{"epoch": 2}\n[3]\n{"epo')  # duplicates, junk, torn
    run.truncate_metrics(5)
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2]
    run.truncate_metrics(0)
    assert run.read_metrics() == [] and run.metrics_path.read_text() == ""


def test_a_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with RunLock(tmp_path, command="artifex train --out x") as lock:
        with pytest.raises(RunLockedError) as info:
            RunLock(tmp_path).acquire()
        assert f"in use by pid {os.getpid()} on {socket.gethostname()}" in str(info.value)
        assert "(artifex train --out x)" in str(info.value) and info.value.holder["pid"] == os.getpid()
        with pytest.raises(RunLockedError):
            RunLock(tmp_path).check_free()
        with holding_lock(tmp_path):  # the holder itself may nest
            pass
        assert lock.path.read_text()
    RunLock(tmp_path).check_free()
    assert lock.path.read_text() == ""  # released: emptied


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    code = f"from artifex_core.training import RunLock; import time; RunLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert json.loads((tmp_path / ".lock").read_text())["pid"] == holder.pid  # the file stays...
    with RunLock(tmp_path):  # ...but the lock died with its process
        pass


def test_without_flock_a_dead_pid_s_lock_file_is_stale(tmp_path: Path) -> None:
    lock = RunLock(tmp_path)
    (tmp_path / ".lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname()}))
    lock._acquire_file_only()  # the fallback where flock is unavailable
    lock.release()
    assert not (tmp_path / ".lock").exists()
    (tmp_path / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    with pytest.raises(RunLockedError, match=f"pid {os.getpid()}"):
        RunLock(tmp_path)._acquire_file_only()
    (tmp_path / ".lock").write_text(json.dumps({"pid": 1, "host": "another-host"}))
    with pytest.raises(RunLockedError, match="on another-host"):  # another host's pid cannot be checked here
        RunLock(tmp_path)._acquire_file_only()


def test_a_symlinked_lock_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".lock").symlink_to(tmp_path.parent / "elsewhere")
    with pytest.raises(RunDirError, match="is a symlink"):
        RunLock(tmp_path).acquire()


def test_segments_record_changes_and_undo_a_diverged_one() -> None:
    base = {"train": {"lr": 0.001, "epochs": 5, "grad_clip": None}}
    first = start_segment(None, base, from_epoch=0)
    assert first["segments"] == [{"from_epoch": 0, "changes": {}, "status": "running"}]
    first, reverted = end_segment(first, "finished")
    assert reverted == {} and first["segments"][-1]["status"] == "finished"
    changed = {"train": {"lr": 5.0, "epochs": 9, "grad_clip": 1.0}}
    second = start_segment(first, changed, from_epoch=5)
    assert second["segments"][-1]["changes"] == {"epochs": [5, 9], "grad_clip": [None, 1.0], "lr": [0.001, 5.0]}
    undone, reverted = end_segment(second, "diverged", step=77)
    assert undone["train"] == base["train"] and set(reverted) == {"epochs", "grad_clip", "lr"}
    assert undone["segments"][-1] | {"changes": None} == {
        "from_epoch": 5, "changes": None, "status": "diverged", "step": 77, "reverted": True}
    third = start_segment(undone, {"train": dict(base["train"])}, from_epoch=5)
    assert third["segments"][-1]["changes"] == {}  # a plain --resume after the blow-up changes nothing
