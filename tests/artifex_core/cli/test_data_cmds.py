"""`artifex data pack` and `artifex data verify`: output, JSON, exit codes (0/1/2) and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from artifex_core.cli import app
from artifex_core.data import load_pack

runner = CliRunner()


def _src(tmp_path: Path) -> Path:
    path = tmp_path / "src.npz"
    np.savez(path, x=np.random.default_rng(0).integers(0, 256, (20, 4, 4), dtype=np.uint8), y=np.arange(20) % 4)
    return path


def test_pack_then_verify(tmp_path: Path) -> None:
    src, dest = _src(tmp_path), tmp_path / "pk"
    result = runner.invoke(app, ["data", "pack", str(src), str(dest), "--test-fraction", "0.25"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"packed {dest}: 15 train + 5 test examples of shape (4, 4, 1) uint8, 4 classes, 0.0 MiB"
    assert load_pack(dest).train_images.shape == (15, 4, 4, 1)
    verified = runner.invoke(app, ["data", "verify", str(dest), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["counts"] == {"train": 15, "test": 5}


def test_usage_errors_exit_2_and_failures_exit_1(tmp_path: Path) -> None:
    src, dest = _src(tmp_path), tmp_path / "pk"
    assert runner.invoke(app, ["data", "pack", str(src), str(dest)]).exit_code == 0
    for args, code, message in (
        (["pack", str(tmp_path / "nope.npz"), str(tmp_path / "x")], 2, f"SRC '{tmp_path / 'nope.npz'}' does not exist"),
        (["pack", str(src), str(dest)], 2, f"DEST '{dest}' already exists; pass --force to replace it"),
        (["pack", str(src), str(tmp_path / "y"), "--image-size", "28"], 2, "--image-size and --grayscale/--rgb apply to image folders only"),
        (["verify", str(tmp_path / "nope")], 2, f"pack '{tmp_path / 'nope'}' does not exist"),
        (["verify", str(tmp_path)], 1, "has no manifest.json"),
    ):
        result = runner.invoke(app, ["data", *args])
        assert result.exit_code == code and message in result.stderr, (args, result.output)
        assert "Traceback" not in result.output
    (tmp_path / "bad.npz").write_bytes(b"junk")
    result = runner.invoke(app, ["data", "pack", str(tmp_path / "bad.npz"), str(tmp_path / "z")])
    assert result.exit_code == 1 and "is not a readable .npz file" in result.stderr
    (dest / "test_images.npy").write_bytes(b"")
    result = runner.invoke(app, ["data", "verify", str(dest)])
    assert result.exit_code == 1 and "test_images.npy has 0 bytes" in result.stderr and "(damaged)" in result.stderr


def test_force_replaces_a_pack(tmp_path: Path) -> None:
    src, dest = _src(tmp_path), tmp_path / "pk"
    assert runner.invoke(app, ["data", "pack", str(src), str(dest)]).exit_code == 0
    np.savez(src, x=np.zeros((10, 3, 3), np.uint8))
    result = runner.invoke(app, ["data", "pack", str(src), str(dest), "--force", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["example_shape"] == [3, 3, 1]
    assert load_pack(dest).train_labels is None


def test_train_reads_a_pack_and_records_the_placement_it_chose(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "g.npz", x=rng.integers(0, 256, (300, 8, 8), dtype=np.uint8))
    assert runner.invoke(app, ["data", "pack", str(tmp_path / "g.npz"), str(tmp_path / "pk")]).exit_code == 0
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", "--dataset", str(tmp_path / "pk"), "--epochs", "1", "--batch-size", "50",
                                 "--out", str(run), "--set", "device_data_budget_mb=0.01", "--json"])
    assert result.exit_code == 0, result.output
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["data_placement"] == "stream"  # auto, past the 10 KiB budget (the pack is 19 KiB)
    assert config["dataset"]["pack"] == str((tmp_path / "pk").resolve())
    assert config["dataset"]["train_size"] == 270
    record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 5 and np.isfinite(record["test"]["loss"])
