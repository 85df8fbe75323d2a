"""The compiled order check of intake batches agrees with a plain numpy one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.readings import _columns
from meterkast.readings.intake import in_order


def numpy_in_order(ean: np.ndarray, day: np.ndarray) -> bool:
    step_ean, step_day = np.diff(ean), np.diff(day.astype(np.int64))
    return bool(np.all((step_ean > 0) | ((step_ean == 0) & (step_day > 0))))


rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(rows, st.booleans())
def test_the_order_check_agrees_with_numpy(values, sort) -> None:  # type: ignore[no-untyped-def]
    if sort:
        values = sorted(set(values))  # mostly ordered batches, the interesting case
    ean = np.array([871687140000000000 + e for e, _ in values], dtype=np.int64)
    day = np.array([20_000 + d for _, d in values], dtype="datetime64[D]")
    assert in_order(ean, day) == numpy_in_order(ean, day)


def test_malformed_columns_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="one length"):
        _columns.strictly_ordered(np.zeros(3, np.int64), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="one length"):
        _columns.strictly_ordered(np.zeros(3, np.int32), np.zeros(3, np.int32))
    with pytest.raises(ValueError, match="not a contiguous"):
        _columns.strictly_ordered(np.zeros(6, np.int64)[::2], np.zeros(3, np.int64))
