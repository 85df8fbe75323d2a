"""Properties of the validation rules, on the pure decision function (no files)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.kernel.codes import Product
from meterkast.readings.ports import ConnectionFact
from meterkast.readings.schema import ELECTRICITY_REGISTERS
from meterkast.readings.validation import (
    DUPLICATE,
    NEW,
    REJECTED,
    DailyColumns,
    decide,
    limits_for,
)

EAN = "871687140000000011"
FACTS = {EAN: ConnectionFact(EAN, Product.ELECTRICITY, 3000.0, capacity_amps=25, phases=3)}
START = date(2026, 1, 1)


def columns(days: list[int], registers: list[list[int]], version: int = 0) -> DailyColumns:
    n = len(days)
    return DailyColumns(
        ean=np.full(n, int(EAN), dtype=np.int64),
        day=np.array([START + timedelta(days=d) for d in days], dtype="datetime64[D]"),
        series=np.ones(n, dtype=np.int64),
        registers=np.array(registers, dtype=np.int64).reshape(4, n),
        source=np.array(["remote"] * n),
        quality=np.array(["measured"] * n),
        version=np.full(n, version, dtype=np.int64),
    )


def run(incoming: DailyColumns, stored: DailyColumns | None = None):  # type: ignore[no-untyped-def]
    return decide(
        Product.ELECTRICITY,
        incoming,
        stored if stored is not None else columns([], [[], [], [], []]),
        FACTS,
        (2, 3),
        ELECTRICITY_REGISTERS,
    )


# Strictly increasing days and per-day increases well inside the limits (<= 20 kWh a day).
readings = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 20_000), st.integers(0, 1_000)),
    min_size=1,
    max_size=15,
)


def series_of(steps: list[tuple[int, int, int]]) -> tuple[list[int], list[list[int]]]:
    days, t1, t2 = [], [], []
    day, a, b = 0, 1_000_000, 2_000_000
    for gap, use, feed in steps:
        day += gap
        a += use * gap
        b += feed * gap
        days.append(day)
        t1.append(a)
        t2.append(b)
    return days, [t1, t2, [0] * len(days), [0] * len(days)]


@settings(max_examples=40, deadline=None)
@given(readings)
def test_plausible_increasing_readings_are_accepted_and_gaps_stay_monotone(steps) -> None:  # type: ignore[no-untyped-def]
    days, regs = series_of(steps)
    decision = run(columns(days, regs))
    assert (decision.status == NEW).all()
    estimates = decision.estimates
    assert estimates is not None
    assert len(estimates) == days[-1] - days[0] + 1 - len(days)
    merged = np.concatenate([np.array(regs[0]), estimates.registers[0]])
    order = np.argsort(
        np.concatenate([np.array(days), (estimates.day - np.datetime64(START)).astype(int)])
    )
    assert (np.diff(merged[order]) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(readings)
def test_resubmitting_stored_readings_is_a_duplicate(steps) -> None:  # type: ignore[no-untyped-def]
    days, regs = series_of(steps)
    decision = run(columns(days, regs), stored=columns(days, regs, version=1))
    assert (decision.status == DUPLICATE).all()
    assert decision.estimates is not None
    assert len(decision.estimates) == 0


@settings(max_examples=40, deadline=None)
@given(readings, st.integers(1, 500_000), st.data())
def test_a_lower_register_is_always_refused(steps, drop, data) -> None:  # type: ignore[no-untyped-def]
    days, regs = series_of(steps)
    register = data.draw(st.sampled_from([0, 1]))
    later = days[-1] + data.draw(st.integers(1, 3))
    new = [r[-1] for r in regs]
    new[register] -= drop
    decision = run(columns([later], [[v] for v in new]), stored=columns(days, regs, version=1))
    assert decision.status.tolist() == [REJECTED]
    assert "lower than the previous reading" in decision.reasons[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(0, 10_000_000))
def test_use_above_the_daily_limit_is_refused(gap, extra) -> None:  # type: ignore[no-untyped-def]
    limit = float(limits_for(Product.ELECTRICITY, [FACTS[EAN]]).import_per_day[0])
    assert 50_000 < limit < 200_000  # 3x25 A and an SJV of 3000 kWh: the SJV bound applies
    stored = columns([0], [[0], [0], [0], [0]], version=1)
    too_much = int(limit * gap * 1.2) + extra
    decision = run(columns([gap], [[too_much], [0], [0], [0]]), stored=stored)
    assert decision.status.tolist() == [REJECTED]
