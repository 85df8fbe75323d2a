"""Readings kept as an Arrow table: the JSON written from columns says what the rows say."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterkast.access.adapters.arrow_rows import ArrowRows
from meterkast.access.days import DayRange, DaySet
from meterkast.access.policy import Decision
from meterkast.access.ports import READING_KINDS, READING_REQUIRED
from meterkast.access.service import Disclosure
from meterkast.api.encode import readings_json
from meterkast.api.schemas import ReadingsOut
from meterkast.kernel.codes import LegalBasis

SCHEMA = pa.schema([
    pa.field("day", pa.date32(), nullable=False),
    pa.field("version", pa.int16(), nullable=False),
    pa.field("import_t1_wh", pa.int64(), nullable=False),
    pa.field("captured_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("quality", pa.string(), nullable=False),
])  # fmt: skip
ROWS = st.fixed_dictionaries({
    "day": st.dates(date(1990, 1, 1), date(2100, 1, 1)),
    "version": st.integers(1, 2**15 - 1),
    "import_t1_wh": st.integers(-(2**63), 2**63 - 1),
    "captured_at": st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1),  # noqa: DTZ001
                                timezones=st.just(UTC)),
    "source": st.text(st.characters(codec="utf-8"), max_size=8),
    "quality": st.sampled_from(["measured", "estimated", "corrected"]),
})  # fmt: skip


def _table(rows: list[dict[str, object]], chunks: int = 1) -> pa.Table:
    step = max(1, len(rows) // chunks)
    parts = [pa.Table.from_pylist(rows[i : i + step], SCHEMA) for i in range(0, len(rows), step)]
    return pa.concat_tables(parts) if parts else pa.Table.from_pylist([], SCHEMA)


def _parsed(written: bytes) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(written)
    for row in rows:
        row["day"] = date.fromisoformat(str(row["day"]))
        row["captured_at"] = datetime.fromisoformat(str(row["captured_at"]))
    return rows


@given(st.lists(ROWS, max_size=30), st.integers(1, 3))
def test_json_from_columns_is_the_rows(rows: list[dict[str, object]], chunks: int) -> None:
    arrow = ArrowRows(_table(rows, chunks))
    written = arrow.json_array(READING_KINDS, READING_REQUIRED)
    assert written is not None
    assert _parsed(written) == rows == list(arrow)


def test_the_api_answer_from_columns_reads_back_as_the_schema() -> None:
    rows = [{"day": date(2026, 1, d), "version": 1, "import_t1_wh": 10 * d,
             "captured_at": datetime(2026, 1, d, 5, tzinfo=UTC), "source": "remote",
             "quality": "measured"} for d in range(1, 11)]  # fmt: skip
    decision = Decision(True, "A.1", LegalBasis.LEGAL_OBLIGATION, ("own",),
                        DaySet.of([DayRange(date(2026, 1, 1), date(2026, 1, 10))]))  # fmt: skip
    body = readings_json("871690000000000010", Disclosure(decision, ArrowRows(_table(rows))))
    answer = ReadingsOut.model_validate_json(body)
    assert [r.captured_at for r in answer.readings] == [r["captured_at"] for r in rows]
    assert json.loads(body)["readings"][0]["captured_at"] == "2026-01-01T05:00:00Z"  # as pydantic


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("value", pa.array([None], pa.int64())),  # a null
        ("value", pa.array([1.5], pa.float64())),  # a type this path does not write
        ("start", pa.array([datetime(2026, 1, 1)], pa.timestamp("us"))),  # noqa: DTZ001 - naive
    ],
)
def test_columns_this_path_cannot_write_are_refused(name: str, column: pa.Array) -> None:
    others = {"source": ["remote"], "quality": ["measured"]}
    arrow = ArrowRows(pa.table({**others, name: column}))
    assert arrow.json_array(READING_KINDS, READING_REQUIRED) is None


def test_a_string_that_needs_escaping_is_escaped() -> None:
    table = pa.table({"day": [date(2026, 1, 1)], "source": ['say "hi"\n'], "quality": ["x"]})
    assert ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED) is not None
    decision = Decision(True, "A.1", LegalBasis.LEGAL_OBLIGATION, ("own",))
    written = readings_json("871690000000000010", Disclosure(decision, ArrowRows(table)))
    assert ReadingsOut.model_validate_json(written).readings[0].source == 'say "hi"\n'


def test_a_moment_in_nanoseconds_that_would_round_is_refused() -> None:
    moment = pa.array([1_700_000_000_000_000_001], pa.timestamp("ns", "UTC"))
    table = pa.table({"captured_at": moment, "source": ["remote"], "quality": ["measured"]})
    assert ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED) is None


def test_it_behaves_as_a_sequence_of_rows() -> None:
    rows = [{"day": date(2026, 1, d), "version": 1, "import_t1_wh": d,
             "captured_at": datetime(2026, 1, d, tzinfo=UTC), "source": "remote",
             "quality": "measured"} for d in range(1, 4)]  # fmt: skip
    arrow = ArrowRows(_table(rows))
    assert len(arrow) == 3 and arrow[0] == rows[0] and list(arrow[1:]) == rows[1:]
    assert arrow == rows and [dict(r) for r in arrow] == rows
    assert ArrowRows(_table([])).json_array(READING_KINDS, READING_REQUIRED) == b"[]"


def test_dictionary_encoded_and_large_strings_are_written_as_text() -> None:
    table = pa.table({
        "day": pa.array([date(2026, 1, 1), date(2026, 1, 2)], pa.date32()),
        "source": pa.array(["remote", "manual"]).dictionary_encode(),
        "quality": pa.array(["measured", "estimated"], pa.large_string()),
    })  # fmt: skip
    written = ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED)
    assert written is not None
    assert json.loads(written) == [
        {"day": "2026-01-01", "source": "remote", "quality": "measured"},
        {"day": "2026-01-02", "source": "manual", "quality": "estimated"},
    ]


@pytest.mark.parametrize(
    "table",
    [
        pa.table({"source": ["remote"], "quality": ["measured"], "ean": ["8716..."]}),  # unknown
        pa.table({"source": ["remote"], "day": [date(2026, 1, 1)]}),  # quality missing
        pa.table({"source": ["remote"], "quality": ["m"], "import_t1_wh": ["12"]}),  # a string
        pa.table({"source": ["remote"], "quality": ["m"], "day": [1]}),  # an integer as a day
    ],
)
def test_columns_that_do_not_fit_the_schema_are_refused(table: pa.Table) -> None:
    assert ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED) is None


def _dumped(rows: list[dict[str, object]]) -> bytes:
    """``json.dumps`` of the rows as the writer promises them: compact, UTF-8, ISO days and Z."""

    def iso(value: object) -> str:
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value))

    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False, default=iso).encode()


@given(st.lists(ROWS, max_size=30), st.integers(1, 3),
       st.sampled_from(["plain", "large", "dictionary"]), st.integers(0, 2))  # fmt: skip
def test_json_from_columns_is_byte_for_byte_json_dumps(
    rows: list[dict[str, object]], chunks: int, strings: str, skip: int
) -> None:
    table = _table(rows, chunks).slice(skip)  # a slice: offsets into the buffers
    rows = rows[skip:]
    if strings == "large":
        table = table.set_column(4, "source", table.column("source").cast(pa.large_string()))
    elif strings == "dictionary":
        table = table.set_column(4, "source", table.column("source").dictionary_encode())
    written = ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED)
    assert written == _dumped([{name: r[name] for name in SCHEMA.names} for r in rows])


@pytest.mark.parametrize(
    ("name", "column", "expected"),
    [
        ("version", pa.array([-3, 7], pa.int8()), [-3, 7]),
        ("value", pa.array([2**31 - 1, -(2**31)], pa.int32()), [2**31 - 1, -(2**31)]),
        ("value", pa.array([0, 2**63 - 1], pa.uint64()), [0, 2**63 - 1]),
        ("start", pa.array([0, 1500], pa.timestamp("ms", "UTC")),
         ["1970-01-01T00:00:00Z", "1970-01-01T00:00:01.500000Z"]),
        ("start", pa.array([1000, 2000], pa.timestamp("ns", "+00:00")),
         ["1970-01-01T00:00:00.000001Z", "1970-01-01T00:00:00.000002Z"]),
    ],
)  # fmt: skip
def test_other_widths_and_units_are_written(name: str, column: pa.Array,
                                            expected: list[object]) -> None:  # fmt: skip
    table = pa.table({name: column, "source": ["r", "r"], "quality": ["m", "m"]})
    written = ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED)
    assert written is not None and [r[name] for r in json.loads(written)] == expected


def test_an_unsigned_value_beyond_int64_is_refused() -> None:
    table = pa.table({"value": pa.array([2**64 - 1], pa.uint64()), "source": ["r"],
                      "quality": ["m"]})  # fmt: skip
    assert ArrowRows(table).json_array(READING_KINDS, READING_REQUIRED) is None
