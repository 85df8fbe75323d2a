"""Source and quality columns to numpy: the compiled scan against the known codes must give
exactly what the general (dictionary) path gives, and an unknown value must not be lost."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.readings.frames import _code_column, _strings

SOURCES = [s.value for s in ReadingSource]
QUALITIES = [q.value for q in ReadingQuality]


def _chunked(values: list[str], cut: int) -> pa.ChunkedArray:
    cut = min(cut, len(values))
    return pa.chunked_array(
        [pa.array(values[:cut], pa.string()), pa.array(values[cut:], pa.string())]
    )


@given(st.lists(st.sampled_from(SOURCES), max_size=60), st.integers(0, 60))
def test_sources_match_the_general_path(values: list[str], cut: int) -> None:
    column = _chunked(values, cut)
    assert _code_column("source", column).tolist() == _strings(column).tolist() == values


@given(st.lists(st.sampled_from(QUALITIES), min_size=1, max_size=60), st.integers(0, 60))
def test_qualities_match_the_general_path(values: list[str], cut: int) -> None:
    column = _chunked(values, cut)
    assert _code_column("quality", column).tolist() == values


def test_one_valued_column_is_a_read_only_view() -> None:
    column = pa.chunked_array([pa.array(["remote"] * 1000)])
    out = _code_column("source", column)
    assert out.shape == (1000,)
    assert not out.flags.writeable
    assert set(out.tolist()) == {"remote"}


@given(st.lists(st.sampled_from([*SOURCES, "meter-reader", ""]), min_size=1, max_size=40))
def test_unknown_values_are_kept_for_validation_to_name(values: list[str]) -> None:
    column = _chunked(values, len(values) // 2)
    assert np.asarray(_code_column("source", column)).tolist() == values
