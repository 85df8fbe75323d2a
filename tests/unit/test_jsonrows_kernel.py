"""The compiled JSON writer (``_jsonrows.c``) against ``json.dumps`` of the same rows.

Byte-identical, not only parse-equal: compact separators, UTF-8 (``ensure_ascii=False``), days
as ``date.isoformat()``, UTC moments as ``datetime.isoformat()`` with ``Z`` for ``+00:00`` (a
fraction only where there is one, as pydantic writes them). Then the inputs it must refuse with
a ValueError rather than read out of bounds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterkast.access.adapters._jsonrows import (
    KIND_CODES,
    KIND_DATE32,
    KIND_INT,
    KIND_MICROS,
    KIND_TEXT,
    rows_json,
)

EPOCH_DAY = date(1970, 1, 1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY = st.text(st.characters(codec="utf-8"), max_size=6)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def _reference(names: list[str], columns: list[list[object]]) -> bytes:
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False, default=_iso).encode()


def _key(name: str) -> bytes:
    return json.dumps(name, ensure_ascii=False).encode()


@st.composite
def columns(draw: st.DrawFn) -> tuple[int, list[str], list[list[object]], list[tuple[object, ...]]]:
    """Random columns of every kind, as Python values and as the writer's fields."""
    rows = draw(st.integers(0, 12))
    names = draw(st.lists(KEY, max_size=5, unique=True))
    values, fields = [], []
    for name in names:
        kind = draw(st.sampled_from([KIND_INT, KIND_DATE32, KIND_MICROS, KIND_CODES, KIND_TEXT]))
        if kind == KIND_INT:
            dtype = draw(st.sampled_from([np.int8, np.int16, np.int32, np.int64]))
            info = np.iinfo(dtype)
            ints = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=rows,
                                 max_size=rows))  # fmt: skip
            values.append(list(ints))
            fields.append((_key(name), kind, np.array(ints, dtype), None))
        elif kind == KIND_DATE32:
            days = draw(st.lists(st.dates(), min_size=rows, max_size=rows))
            values.append(list(days))
            offsets = np.array([(d - EPOCH_DAY).days for d in days], np.int32)
            fields.append((_key(name), kind, offsets, None))
        elif kind == KIND_MICROS:
            moments = draw(st.lists(st.datetimes(timezones=st.just(UTC)), min_size=rows,
                                    max_size=rows))  # fmt: skip
            values.append(list(moments))
            micros = np.array([(m - EPOCH) // timedelta(microseconds=1) for m in moments])
            fields.append((_key(name), kind, micros.astype(np.int64), None))
        elif kind == KIND_TEXT:  # an Arrow string column, maybe a slice of a longer one
            strings = draw(st.lists(st.text(st.characters(codec="utf-8")), min_size=rows,
                                    max_size=rows))  # fmt: skip
            skip = draw(st.integers(0, 3))
            large = draw(st.booleans())
            array = pa.array(["x"] * skip + strings, pa.large_string() if large else pa.string())
            array = array.slice(skip)
            _, offsets, data = array.buffers()
            starts = np.frombuffer(offsets, np.int64 if large else np.int32)[skip:]
            values.append(list(strings))
            fields.append((_key(name), kind, starts, b"" if data is None else data))
        else:
            texts = draw(st.lists(st.text(st.characters(codec="utf-8")), min_size=1, max_size=4))
            codes = draw(st.lists(st.integers(0, len(texts) - 1), min_size=rows, max_size=rows))
            values.append([texts[c] for c in codes])
            encoded = [json.dumps(t, ensure_ascii=False).encode() for t in texts]
            fields.append((_key(name), kind, np.array(codes, np.int32), encoded))
    return rows, names, values, fields


@given(columns())
def test_it_writes_what_json_dumps_writes(
    case: tuple[int, list[str], list[list[object]], list[tuple[object, ...]]],
) -> None:
    rows, names, values, fields = case
    expected = _reference(names, values) if names else b"[" + b",".join([b"{}"] * rows) + b"]"
    assert rows_json(rows, fields) == expected  # type: ignore[arg-type]


def test_edges_of_each_kind() -> None:
    fields = [
        (b'"n"', KIND_INT, np.array([-(2**63), 2**63 - 1, 0, -1], np.int64), None),
        (b'"d"', KIND_DATE32, np.array([-719162, 2932896, 0, -1], np.int32), None),
        (b'"t"', KIND_MICROS, np.array([-1, 0, 1, 86_399_999_999], np.int64), None),
    ]
    assert json.loads(rows_json(4, fields)) == [
        {"n": -(2**63), "d": "0001-01-01", "t": "1969-12-31T23:59:59.999999Z"},
        {"n": 2**63 - 1, "d": "9999-12-31", "t": "1970-01-01T00:00:00Z"},
        {"n": 0, "d": "1970-01-01", "t": "1970-01-01T00:00:00.000001Z"},
        {"n": -1, "d": "1969-12-31", "t": "1970-01-01T23:59:59.999999Z"},
    ]
    assert rows_json(0, fields) == b"[]"
    assert rows_json(2, fields) == rows_json(4, fields)[: len(rows_json(2, fields)) - 1] + b"]"


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_integers_of_every_width(dtype: type[np.signedinteger[Any]]) -> None:
    info = np.iinfo(dtype)
    values = np.array([info.min, -1, 0, 1, info.max], dtype)
    expected = [{"n": int(v)} for v in values]
    assert json.loads(rows_json(5, [(b'"n"', KIND_INT, values, None)])) == expected


def test_text_is_escaped_as_json_dumps_escapes_it() -> None:
    strings = ['say "hi"', "back\\slash", "\n\r\t\b\f\x00\x1f\x7f", "é€😀", ""]
    array = pa.array(strings)
    _, offsets, data = array.buffers()
    field = (b'"s"', KIND_TEXT, np.frombuffer(offsets, np.int32), data)
    assert rows_json(len(strings), [field]) == _reference(["s"], [list(strings)])


def test_a_longer_buffer_is_read_only_as_far_as_the_rows() -> None:
    field = (b'"n"', KIND_INT, np.arange(10, dtype=np.int64), None)
    assert rows_json(3, [field]) == b'[{"n":0},{"n":1},{"n":2}]'


INTS = np.array([1, 2], np.int64)
CODES = np.array([0, 1], np.int32)


@pytest.mark.parametrize(
    ("rows", "fields", "message"),
    [
        (-1, [], "negative"),
        (3, [(b'"n"', KIND_INT, INTS, None)], "shorter"),
        (2, [(b'"n"', KIND_INT, INTS.astype(np.bool_), None)], "signed"),
        (2, [(b'"n"', KIND_INT, INTS.astype(np.uint64), None)], "signed"),
        (2, [(b'"n"', KIND_INT, INTS.astype(np.float64), None)], "signed"),
        (2, [(b'"n"', KIND_INT, INTS.astype(">i8"), None)], "signed"),
        (2, [(b'"d"', KIND_DATE32, INTS, None)], "4-byte"),
        (1, [(b'"d"', KIND_DATE32, np.array([2932897], np.int32), None)], "years"),
        (1, [(b'"d"', KIND_DATE32, np.array([-719163], np.int32), None)], "years"),
        (1, [(b'"t"', KIND_MICROS, np.array([2**63 - 1], np.int64), None)], "years"),
        (1, [(b'"t"', KIND_MICROS, np.array([-(2**63)], np.int64), None)], "years"),
        (2, [(b'"s"', KIND_CODES, CODES, [b'"a"'])], "index"),
        (2, [(b'"s"', KIND_CODES, -CODES, [b'"a"', b'"b"'])], "index"),
        (2, [(b'"s"', KIND_CODES, CODES, None)], "sequence"),
        (2, [(b'"s"', KIND_CODES, CODES, ["a", "b"])], "bytes"),
        (2, [(b'"n"', 9, INTS, None)], "unknown"),
        (2, [(b'"s"', KIND_TEXT, np.array([0, 1, 2], np.int32), b"a")], "outside"),
        (2, [(b'"s"', KIND_TEXT, np.array([0, 2, 1], np.int32), b"ab")], "outside"),
        (1, [(b'"s"', KIND_TEXT, np.array([-1, 1], np.int32), b"ab")], "outside"),
        (2, [(b'"s"', KIND_TEXT, np.array([0, 1], np.int32), b"ab")], "shorter"),
        (1, [(b'"s"', KIND_TEXT, np.array([0, 1], np.int16), b"ab")], "int32 or int64"),
        (1, [(b'"s"', KIND_TEXT, np.array([0, 1], np.int32), None)], "data"),
        (2, [("n", KIND_INT, INTS, None)], "each field"),
        (2, [(b'"n"', KIND_INT, INTS)], "each field"),
        (2, [[b'"n"', KIND_INT, INTS, None]], "each field"),
    ],
)
def test_input_it_cannot_write_is_refused(rows: int, fields: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rows_json(rows, fields)  # type: ignore[arg-type]


def test_something_without_a_buffer_is_refused() -> None:
    with pytest.raises(TypeError):
        rows_json(1, [(b'"n"', KIND_INT, [1], None)])  # type: ignore[list-item]
