"""The readings answer written straight to JSON says what ``ReadingsOut`` would say."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from meterkast.access.days import DayRange, DaySet
from meterkast.access.policy import Decision
from meterkast.access.ports import READING_FIELDS, READING_KINDS
from meterkast.access.service import Disclosure
from meterkast.api.encode import readings_json
from meterkast.api.schemas import ReadingRow, ReadingsOut
from meterkast.kernel.codes import LegalBasis

EAN = "871690000000000010"
DECISION = Decision(
    True, "A.1", LegalBasis.LEGAL_OBLIGATION, ("own connection",),
    days=DaySet.of([DayRange(date(2026, 1, 1), date(2026, 1, 31)),
                    DayRange(date(2026, 3, 1), date(2026, 3, 5))]),
)  # fmt: skip
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive, zone below
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
WH = st.integers(min_value=0, max_value=2**53)
DAILY = st.fixed_dictionaries(
    {"day": st.dates(date(2020, 1, 1), date(2030, 1, 1)),
     "source": st.sampled_from(["remote", "manual"]),
     "quality": st.sampled_from(["measured", "estimated"]), "version": st.integers(1, 99)},
    optional={"import_t1_wh": WH, "import_t2_wh": WH, "export_t1_wh": WH, "export_t2_wh": WH,
              "volume_dm3": WH, "captured_at": MOMENTS, "start": MOMENTS, "value": WH},
)  # fmt: skip


def _expected(rows: list[dict[str, object]]) -> object:
    """What the pydantic model itself writes for these rows (fields that do not apply left out)."""
    out = ReadingsOut(
        ean=EAN, purpose="A.1", legal_basis="legal_obligation",
        policy_version=DECISION.policy_version,
        days_disclosed=[{"first": r.first, "last": r.last} for r in DECISION.days.ranges],  # type: ignore[misc]
        readings=[ReadingRow.model_validate(r) for r in rows],
    )  # fmt: skip
    return json.loads(out.model_dump_json(exclude_none=True))


@given(st.lists(DAILY, max_size=40))
def test_dict_rows_are_checked_and_match_the_model(rows: list[dict[str, object]]) -> None:
    written = readings_json(EAN, Disclosure(DECISION, rows))
    assert json.loads(written) == _expected(rows)
    ReadingsOut.model_validate_json(written)  # and it reads back as the documented schema


@given(st.lists(DAILY, min_size=1, max_size=20))
def test_extra_keys_are_dropped(rows: list[dict[str, object]]) -> None:
    extended = [{**r, "ean": EAN, "series": 1, "recorded_at": datetime.now(UTC)} for r in rows]
    assert json.loads(readings_json(EAN, Disclosure(DECISION, extended))) == _expected(rows)


def test_values_are_coerced_as_the_model_does() -> None:
    row = {"day": date(2026, 1, 1), "import_t1_wh": Decimal(5), "source": "remote",
           "quality": "measured", "version": 1}  # fmt: skip
    body = json.loads(readings_json(EAN, Disclosure(DECISION, [row])))
    assert body["readings"] == [{"day": "2026-01-01", "import_t1_wh": 5, "source": "remote",
                                 "quality": "measured", "version": 1}]  # fmt: skip


@pytest.mark.parametrize(
    "row",
    [
        {"day": date(2026, 1, 1), "quality": "measured"},  # no source: the schema requires it
        {"day": "not a day", "source": "remote", "quality": "measured", "extra": 1},
        {"day": date(2026, 1, 1), "source": "remote", "quality": "measured", "value": object()},
    ],
)
def test_a_row_that_breaks_the_schema_is_refused(row: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        readings_json(EAN, Disclosure(DECISION, [row]))


def test_times_are_written_in_utc_with_z() -> None:
    moment = datetime(2026, 1, 1, 23, 15, tzinfo=UTC) + timedelta(microseconds=5)
    rows = [{"start": moment, "value": 7, "source": "remote", "quality": "measured"}]
    body = json.loads(readings_json(EAN, Disclosure(DECISION, rows)))
    assert body["readings"][0]["start"] == "2026-01-01T23:15:00.000005Z"
    assert body["days_disclosed"] == [{"first": "2026-01-01", "last": "2026-01-31"},
                                      {"first": "2026-03-01", "last": "2026-03-05"}]  # fmt: skip


def test_the_fields_the_port_names_are_the_models_fields() -> None:
    assert frozenset(ReadingRow.model_fields) == READING_FIELDS


def test_the_kinds_the_port_names_are_the_models_types() -> None:
    python = {"integer": int, "date": date, "timestamp": datetime, "string": str}
    for name, kind in READING_KINDS.items():
        annotation = ReadingRow.model_fields[name].annotation
        assert python[kind] in (getattr(annotation, "__args__", None) or (annotation,)), name
