"""Exports read back by independent parsers: pandas for CSV, greenbutton-objects for ESPI."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from greenbutton_objects import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.exports import CSV_HEADER, to_csv, to_espi
from meterkast.exports.table import kwh

EAN = "871690000000000010"


def _rows(first: date, n: int, step: int = 7_250) -> list[dict[str, object]]:
    return [
        {
            "day": first + timedelta(i),
            "import_t1_wh": 1_000_000 + i * step,
            "import_t2_wh": 2_000 + i * 1_001,
            "export_t1_wh": i * 3_000,
            "export_t2_wh": 5,
            "source": "remote",
            "quality": "estimated" if i == 2 else "measured",
            "version": 1,
        }
        for i in range(n)
    ]


def test_csv_opens_in_pandas_with_the_right_types() -> None:
    text = to_csv(EAN, _rows(date(2026, 3, 27), 5))
    assert text.splitlines()[0] == ",".join(CSV_HEADER)
    frame = pd.read_csv(io.StringIO(text), dtype={"ean": str}, parse_dates=["day"])
    assert list(frame.columns) == list(CSV_HEADER) and len(frame) == 5
    assert frame["ean"].iloc[0] == EAN
    assert pd.api.types.is_datetime64_any_dtype(frame["day"])
    for column in ("import_t1_kwh", "import_t2_kwh", "export_t1_kwh", "export_t2_kwh"):
        assert frame[column].dtype == "float64", column
    assert frame["import_t1_kwh"].iloc[1] == 1007.25
    assert frame["day"].iloc[4] == pd.Timestamp("2026-03-31")
    assert set(frame["quality"]) == {"measured", "estimated"}


@settings(max_examples=80)
@given(st.integers(-(10**12), 10**12))
def test_kwh_is_exact(wh: int) -> None:
    assert round(float(kwh(wh)) * 1000) == wh
    assert kwh(wh).count(".") == 1 and len(kwh(wh).split(".")[1]) == 3


def test_espi_parses_with_greenbutton_objects(tmp_path: Path) -> None:
    rows = _rows(date(2026, 3, 27), 5)  # spans the DST change of 29 March 2026
    path = tmp_path / "feed.xml"
    path.write_text(to_espi(EAN, rows, generated_at=datetime(2026, 4, 1, tzinfo=UTC)), "utf-8")
    (usage_point,) = parse.parse_feed(str(path))
    assert usage_point.serviceCategory.name == "electricity"
    readings = {mr.readingType.flowDirection.name: mr for mr in usage_point.meterReadings}
    assert set(readings) == {"forward", "reverse"}
    forward = list(readings["forward"].intervalReadings)
    assert [r.value for r in forward] == [7_250 + 1_001] * 4
    assert readings["forward"].readingType.uom.name == "wattHours"
    assert readings["forward"].readingType.kind.name == "energy"
    assert [r.value for r in readings["reverse"].intervalReadings] == [3_000] * 4
    durations = [r.timePeriod.duration.total_seconds() / 3600 for r in forward]
    assert durations == [24, 24, 23, 24]
    assert [q.quality.name for r in forward for q in r.readingQualities] == [
        "estimatedUsingReferenceDay",
        "estimatedUsingReferenceDay",
    ]


def test_espi_escapes_and_handles_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_text(to_espi("<&>", [], generated_at=datetime(2026, 4, 1, tzinfo=UTC)), "utf-8")
    (usage_point,) = parse.parse_feed(str(path))
    assert all(list(mr.intervalReadings) == [] for mr in usage_point.meterReadings)


def test_rows_from_other_stores_read_the_same() -> None:
    from decimal import Decimal

    plain = _rows(date(2026, 3, 27), 3)
    other = [
        {
            **r,
            "day": str(r["day"]),
            "import_t1_wh": Decimal(str(r["import_t1_wh"])),
            "import_t2_wh": str(r["import_t2_wh"]),
            "export_t2_wh": None,
        }
        for r in plain
    ]
    expected = to_csv(EAN, plain).replace(",0.005,", ",0.000,")
    assert to_csv(EAN, other) == expected


def _gas_rows(first: date, n: int) -> list[dict[str, object]]:
    return [{"day": first + timedelta(i), "volume_dm3": 1_234_000 + i * 2_750,
             "source": "remote", "quality": "measured", "version": 1}
            for i in range(n)]  # fmt: skip


def test_espi_carries_amsterdam_local_time_parameters(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from meterkast.exports.localtime import DstRule

    text = to_espi(EAN, _rows(date(2026, 3, 27), 3), generated_at=datetime(2026, 4, 1, tzinfo=UTC))
    ns = {"a": "http://www.w3.org/2005/Atom", "e": "http://naesb.org/espi"}
    root = ET.fromstring(text)  # noqa: S314 - our own output
    (params,) = root.findall("a:entry/a:content/e:LocalTimeParameters", ns)
    values = {child.tag.split("}")[1]: child.text for child in params}
    assert values["tzOffset"] == "3600" and values["dstOffset"] == "3600"
    start = DstRule.decode(int(values["dstStartRule"] or "", 16))
    end = DstRule.decode(int(values["dstEndRule"] or "", 16))
    assert (start.month, start.weekday, start.hour, start.operator) == (3, 7, 2, 7)
    assert (end.month, end.weekday, end.hour, end.operator) == (10, 7, 3, 7)
    assert start.day_in(2026) == date(2026, 3, 29) and end.day_in(2026) == date(2026, 10, 25)
    links = [link.get("href") for link in root.iter("{http://www.w3.org/2005/Atom}link")]
    assert any(str(h).endswith(f"/LocalTimeParameters/{EAN}") for h in links)
    path = tmp_path / "feed.xml"
    path.write_text(text, "utf-8")
    assert len(parse.parse_feed(str(path))) == 1  # the independent parser still reads it


@settings(max_examples=40)
@given(st.integers(1997, 2037))
def test_dst_rules_agree_with_the_time_zone_database(year: int) -> None:
    from meterkast.exports.localtime import DST_END, DST_START
    from meterkast.kernel.clock import AMSTERDAM

    def offset(day: date, hour: int) -> float:
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        found = moment.astimezone(AMSTERDAM).utcoffset()
        assert found is not None
        return found.total_seconds()

    start, end = DST_START.day_in(year), DST_END.day_in(year)
    # the change is at 01:00 UTC: 02:00 CET in March, 03:00 CEST in October
    assert offset(start, 0) == 3600 and offset(start, 1) == 7200
    assert offset(end, 0) == 7200 and offset(end, 1) == 3600
    assert start.isoweekday() == end.isoweekday() == 7
    assert (start + timedelta(days=7)).month == 4 and (end + timedelta(days=7)).month == 11


def test_gas_exports_in_cubic_metres(tmp_path: Path) -> None:
    from meterkast.exports import GAS_CSV_HEADER

    rows = _gas_rows(date(2026, 10, 23), 5)  # spans the DST end of 25 October 2026
    frame = pd.read_csv(io.StringIO(to_csv(EAN, rows, gas=True)), dtype={"ean": str},
                        parse_dates=["day"])  # fmt: skip
    assert list(frame.columns) == list(GAS_CSV_HEADER) and frame["volume_m3"].dtype == "float64"
    assert frame["volume_m3"].iloc[1] == 1236.75
    path = tmp_path / "gas.xml"
    path.write_text(to_espi(EAN, rows, generated_at=datetime(2026, 11, 1, tzinfo=UTC), gas=True))
    (usage_point,) = parse.parse_feed(str(path))
    assert usage_point.serviceCategory.name == "naturalGas"
    (reading,) = usage_point.meterReadings
    assert reading.readingType.uom.name == "cubicMeters"
    assert reading.readingType.commodity.name == "naturalGas"
    assert reading.readingType.powerOfTenMultiplier == -3
    values = list(reading.intervalReadings)
    assert [r.value for r in values] == [2.75] * 4  # m³: the parser applies the 10^-3
    assert [r.timePeriod.duration.total_seconds() / 3600 for r in values] == [24, 24, 25, 24]
