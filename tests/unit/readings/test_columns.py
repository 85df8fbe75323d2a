"""Column helpers (pure)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from meterkast.readings.columns import sorted_unique


@given(st.lists(st.integers(-(2**62), 2**62), max_size=40), st.booleans())
def test_sorted_unique_equals_numpys_unique_for_ordered_and_unordered_input(
    values: list[int], ordered: bool
) -> None:
    array = np.array(sorted(values) if ordered else values, dtype=np.int64)
    assert sorted_unique(array).tolist() == np.unique(array).tolist()
