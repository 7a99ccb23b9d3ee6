"""A run's pictures: computed once per epoch, written in the background, joined before the next draw and at
the end (the final epoch's are on disk after ``fit``), a writer's failure raised; the loggers get every epoch's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flax import nnx
from PIL import Image

from artifex_core.training import Logger, TrainConfig, Trainer
from artifex_core.training import _run
from artifex_core.training._pictures import write_pictures
from artifex_core.training._writer import BackgroundWriter
from toy_vae import BASE, DATA, ToyVAE

NAMES = ["reconstructions.png", "samples.png", "traversals.png"]


class Images(Logger):
    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir)
        self.got: list[tuple[int, dict[str, tuple[int, ...]]]] = []

    def on_images(self, trainer: Any, epoch: int, images: Mapping[str, np.ndarray]) -> None:
        self.got.append((epoch, {k: v.shape for k, v in images.items()}))


def fit_with_pictures(tmp_path: Path, epochs: int = 2) -> tuple[ToyVAE, _run._Pictures, Images]:
    model = ToyVAE((6, 6, 1), latent_dim=3, rngs=nnx.Rngs(0))
    painter = _run._Pictures(DATA, tmp_path, None, 0, BackgroundWriter())
    logger = Images(tmp_path)
    trainer = Trainer(model, TrainConfig(**{**BASE, "epochs": epochs}), DATA, callbacks=[painter], loggers=[logger])
    trainer.fit()
    return model, painter, logger


def test_the_final_epochs_pictures_are_written_when_fit_returns(tmp_path: Path) -> None:
    model, painter, logger = fit_with_pictures(tmp_path / "run")
    assert sorted(p.name for p in painter.paths) == NAMES
    write_pictures(model, DATA.x_test[:32], None, tmp_path / "eager", seed=0)  # the trained state, drawn eagerly
    for name in NAMES:
        got, want = (np.asarray(Image.open(folder / name)) for folder in (tmp_path / "run", tmp_path / "eager"))
        np.testing.assert_array_equal(got, want, err_msg=name)
    shapes = {"samples": (8 * 8 + 2, 8 * 8 + 2, 1), "reconstructions": (8 * 8 + 2, 8 * 8 + 2, 1)}
    assert [epoch for epoch, _ in logger.got] == [1, 2]  # every epoch's, the last one's before fit returned
    assert all({k: v for k, v in got.items() if k in shapes} == shapes for _, got in logger.got)


def test_a_failure_of_the_writer_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> list[Path]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_run, "save_pictures", broken)
    with pytest.raises(OSError, match="No space left on device"):
        fit_with_pictures(tmp_path, epochs=1)  # the only epoch: raised when the fit ends


def test_the_writer_runs_jobs_in_order_and_raises_the_first_error_once() -> None:
    writer = BackgroundWriter()
    done: list[int] = []

    def fail(n: int) -> None:
        done.append(n)
        raise ValueError(f"job {n}")

    writer.submit(lambda: done.append(1))
    writer.submit(lambda: fail(2))
    writer.submit(lambda: fail(3))
    with pytest.raises(ValueError, match="^job 2$"):
        writer.join()
    assert done == [1, 2, 3]
    writer.join()  # raised once
    writer.submit(lambda: fail(4))
    writer.close(raise_errors=False)  # on the way out of a failed run: not raised
    writer.submit(lambda: done.append(5))  # a new worker
    writer.close()
    assert done == [1, 2, 3, 4, 5]
