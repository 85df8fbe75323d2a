"""Charts: usage from consecutive readings, month sums, and the SVG's accessible parts."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.web.charts import Bar, bar_chart, daily_usage, monthly_usage, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def _row(day: date, imp: int, exp: int = 0, version: int = 1) -> dict[str, object]:
    return {
        "day": day,
        "import_t1_wh": imp,
        "import_t2_wh": 0,
        "export_t1_wh": exp,
        "export_t2_wh": 0,
        "source": "remote",
        "quality": "measured",
        "version": version,
    }


def test_usage_is_the_difference_of_consecutive_readings_and_gaps_give_nothing() -> None:
    d = date(2026, 1, 31)
    rows = [
        _row(d, 100),
        _row(d + timedelta(1), 350, 10),
        _row(d + timedelta(2), 400, 40),
        _row(d + timedelta(4), 900),
    ]
    usage = daily_usage(rows)
    assert [(u.period, u.import_wh, u.export_wh) for u in usage] == [
        (d, 250, 10),
        (d + timedelta(1), 50, 30),
    ]
    months = monthly_usage(usage)
    assert [(m.period, m.import_wh) for m in months] == [
        (date(2026, 1, 1), 250),
        (date(2026, 2, 1), 50),
    ]


def test_a_later_version_of_a_day_wins() -> None:
    d = date(2026, 3, 1)
    rows = [
        _row(d, 100),
        _row(d + timedelta(1), 999, version=1),
        _row(d + timedelta(1), 300, version=2),
    ]
    assert daily_usage(rows)[0].import_wh == 200


@settings(max_examples=60)
@given(st.lists(st.integers(0, 50_000), min_size=2, max_size=60))
def test_month_sums_keep_the_total(steps: list[int]) -> None:
    start, total, rows = date(2025, 12, 20), 0, []
    for i, step in enumerate(steps):
        total += step
        rows.append(_row(start + timedelta(i), total))
    daily = daily_usage(rows)
    assert sum(u.import_wh for u in monthly_usage(daily)) == total - steps[0]
    assert len(daily) == len(steps) - 1


@settings(max_examples=60)
@given(st.floats(0.001, 1e9))
def test_axis_top_is_a_nice_number_not_below_the_peak(value: float) -> None:
    top = nice_ceiling(value)
    assert top >= value and top < value * 10.01
    mantissa = float(re.sub(r"e.*", "", f"{top:e}"))
    assert mantissa in {1.0, 2.0, 2.5, 5.0}


def test_svg_is_well_formed_with_title_desc_and_one_rect_per_bar() -> None:
    bars = [Bar(f"2026-{m:02d}", m * 10.0, f"2026-{m:02d}: {m * 10} kWh") for m in range(1, 13)]
    bars.append(Bar("2027-01", -5.0, "correction <&>"))
    svg = bar_chart(bars, chart_id="c1", title="Verbruik & zo", desc="Per maand", unit="kWh")
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own output
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-t c1-d"
    assert root.find(f"{SVG}title").text == "Verbruik & zo"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Per maand"  # type: ignore[union-attr]
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 13
    heights = [float(r.get("height", "0")) for r in rects]
    assert heights[-1] == 0.0 and heights[11] > heights[0] > 0
    assert heights[11] <= 240


def test_empty_chart_is_still_valid() -> None:
    svg = bar_chart([], chart_id="e", title="t", desc="d", unit="kWh")
    assert ElementTree.fromstring(svg).findall(f"{SVG}rect") == []  # noqa: S314
