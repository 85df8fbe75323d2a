"""The compiled EAN parser gives Arrow's cast to int64 for 18-digit values, and clear errors."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.readings import _columns
from meterkast.readings.frames import ean_numbers

eans = st.lists(st.text("0123456789", min_size=18, max_size=18), max_size=60)


@settings(max_examples=200, deadline=None)
@given(eans, st.integers(0, 5), st.booleans(), st.integers(1, 3))
def test_the_parser_agrees_with_arrows_cast(values, skip, large, chunks) -> None:  # type: ignore[no-untyped-def]
    kind = pa.large_string() if large else pa.string()
    array = pa.array(values, kind)[min(skip, len(values)) :]  # a slice: a non-zero offset
    size = max(len(array) // chunks, 1)
    column = pa.chunked_array(
        [array[i : i + size] for i in range(0, len(array), size)] or [array], kind
    )
    expected = pc.cast(column, pa.int64()).to_numpy()
    assert ean_numbers(column).tolist() == expected.tolist()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("87168714000000001", "not 18 characters"),
        ("8716871400000000111", "not 18 characters"),
        ("87168714000000001x", "not all digits"),
        ("-87168714000000001", "not all digits"),
        ("\uff1871687140000000011", "not 18 characters"),  # a full-width 8 is three bytes
        ("", "not 18 characters"),
    ],
)
def test_a_value_that_is_not_18_digits_is_a_clear_value_error(value: str, problem: str) -> None:
    column = pa.chunked_array([["871687140000000011", value]])
    with pytest.raises(ValueError, match=f"EAN at row 1 is {problem}"):
        ean_numbers(column)


def test_missing_values_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="missing"):
        ean_numbers(pa.chunked_array([["871687140000000011", None]]))


def test_malformed_buffers_are_a_value_error() -> None:
    out = np.empty(2, dtype=np.int64)
    offsets = np.array([0, 18, 36], dtype=np.int32).tobytes()
    with pytest.raises(ValueError, match="offsets outside the data"):
        _columns.ean_codes(offsets, b"8" * 20, 0, 2, 4, out)
    with pytest.raises(ValueError, match="too short"):
        _columns.ean_codes(offsets, b"8" * 36, 1, 2, 4, out)
    with pytest.raises(ValueError, match=re.escape("out: 8 bytes, expected 2")):
        _columns.ean_codes(offsets, b"8" * 36, 0, 2, 4, out[:1])
    with pytest.raises(ValueError, match="offset_width must be 4 or 8"):
        _columns.ean_codes(offsets, b"8" * 36, 0, 2, 2, out)
    with pytest.raises(ValueError, match="not a contiguous writable"):
        _columns.ean_codes(offsets, b"8" * 36, 0, 2, 4, b"x" * 16)
    _columns.ean_codes(offsets, b"8" * 36, 0, 2, 4, out)
    assert out.tolist() == [888888888888888888] * 2
