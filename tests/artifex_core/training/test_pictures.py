"""The layout of a conditional sample grid: one row per class, the same count in each (issue #12)."""

from __future__ import annotations

import numpy as np
import pytest

from artifex_core.training.pictures import PER_CLASS, class_grid


def test_default_is_a_square_of_ten_per_class_row_by_row() -> None:
    labels, per_row = class_grid(10)
    assert per_row == PER_CLASS == 10 and labels.shape == (100,)
    assert (labels.reshape(10, 10) == np.arange(10)[:, None]).all()  # row r holds class r only


@pytest.mark.parametrize(("n", "per_row", "expected"), [(20, None, 2), (None, 3, 3), (40, 4, 4)])
def test_n_or_per_row_set_the_row_length(n: int | None, per_row: int | None, expected: int) -> None:
    labels, got = class_grid(10, n, per_row)
    assert got == expected and np.bincount(labels).tolist() == [expected] * 10


def test_a_count_that_is_not_whole_per_class_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^64 samples do not fill one row per class: with 10 classes give a "
                                         r"multiple of 10 \(e\.g\. 60 or 70\)$"):
        class_grid(10, 64)
    with pytest.raises(ValueError, match=r"3 samples .* multiple of 10 \(e\.g\. 10 or 20\)"):
        class_grid(10, 3)
    with pytest.raises(ValueError, match="20 samples in rows of 3 do not give one row per class: 10 classes x 3 = 30"):
        class_grid(10, 20, 3)
    with pytest.raises(ValueError, match="at least one class"):
        class_grid(0)
