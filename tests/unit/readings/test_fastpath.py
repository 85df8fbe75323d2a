"""The compiled pass for ordered forward batches decides exactly as the general decide."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings import _checks
from meterkast.readings.columns import DailyColumns
from meterkast.readings.fastpath import decide_batch, decide_forward
from meterkast.readings.ports import ConnectionFact, FactColumns
from meterkast.readings.schema import ELECTRICITY_REGISTERS, GAS_REGISTERS
from meterkast.readings.validation import Decision, decide

START = date(2026, 1, 1)
E = [f"87168714000000{i:04d}" for i in range(5)]
FACTS = {
    E[0]: ConnectionFact(E[0], Product.ELECTRICITY, 3000.0, capacity_amps=25, phases=1),
    E[1]: ConnectionFact(E[1], Product.ELECTRICITY, 3500.0, 25, 3, solar_kwp=4.0),
    E[2]: ConnectionFact(E[2], Product.ELECTRICITY, 1500.0, 35, 1),
    E[3]: ConnectionFact(E[3], Product.GAS, 1200.0, gas_max_m3h=6.0),
    # E[4] is no connection at all
}
SOURCES = [ReadingSource.REMOTE, ReadingSource.CUSTOMER, ReadingSource.ESTIMATE]
SOURCES += [ReadingSource.CORRECTION]


def columns(rows: list[tuple[int, int, int, list[int], str, str]], k: int) -> DailyColumns:
    """Rows of (EAN index, day offset, series, registers, source, quality)."""
    n = len(rows)
    return DailyColumns(
        ean=np.array([int(E[r[0]]) for r in rows], dtype=np.int64),
        day=np.array([START + timedelta(days=r[1]) for r in rows], dtype="datetime64[D]"),
        series=np.array([r[2] for r in rows], dtype=np.int64),
        registers=np.array([r[3] for r in rows], dtype=np.int64).reshape(n, k).T.copy(),
        source=np.array([r[4] for r in rows] or [""], dtype=str)[:n],
        quality=np.array([r[5] for r in rows] or [""], dtype=str)[:n],
        version=np.array([1 if r[5] else 0 for r in rows], dtype=np.int64),
    )


def readings(draw: st.DrawFn, k: int, first_day: int, start: list[int], series: int) -> list:  # type: ignore[type-arg]
    """One connection's readings after ``first_day``: mostly plausible, sometimes not."""
    rows = []
    day, regs = first_day, list(start)
    for _ in range(draw(st.integers(0, 8))):
        gap = draw(st.sampled_from([1, 1, 1, 2, 3, 9]))
        day += gap
        kind = draw(
            st.sampled_from(["ok"] * 6 + ["drop", "jump", "feed", "exchange", "old", "much"])
        )
        if kind == "exchange":
            series += 1
            regs = [draw(st.integers(0, 1000)) for _ in range(k)]
        elif kind == "old":
            series = max(series - 1, 0)
        for j in range(k):
            step = draw(st.integers(0, 40_000 if j < 2 else 2_500))
            regs[j] += step * (day - first_day if kind == "jump" else 1)
            if kind == "feed" and j >= 2:
                regs[j] += 50_000
        if kind == "much":  # within the daily limit over a gap, but not for a customer
            regs[0] += 60_000 * gap
        if kind == "drop":
            regs[draw(st.integers(0, k - 1))] -= draw(st.integers(1, 50_000))
        source = draw(st.sampled_from([*SOURCES, ReadingSource.CUSTOMER])).value
        quality = draw(st.sampled_from([ReadingQuality.MEASURED, ReadingQuality.ESTIMATED])).value
        rows.append((day, series, list(regs), source, quality))
    return rows


@st.composite
def batches(draw: st.DrawFn, *, forward: bool) -> tuple:  # type: ignore[type-arg]
    """A batch and stored rows. ``forward``: an ordered forward batch; otherwise some
    preconditions are broken on purpose (stored estimates, overlaps, repeats, disorder)."""
    gas = draw(st.booleans())
    k = 1 if gas else 4
    incoming, stored = [], []
    for index in sorted(draw(st.sets(st.integers(0, 4), min_size=1, max_size=4))):
        start = [draw(st.integers(0, 10_000_000)) for _ in range(k)]
        series = draw(st.sampled_from([1, 1, 1, 2, 0]))
        base = draw(st.integers(0, 40))
        if draw(st.booleans()):  # a stored anchor
            quality = ReadingQuality.MEASURED.value
            if not forward and draw(st.booleans()):
                quality = ReadingQuality.ESTIMATED.value
            source = draw(st.sampled_from([ReadingSource.REMOTE, ReadingSource.CORRECTION]))
            stored.append((index, base, max(series, 1), list(start), source.value, quality))
        first = base if forward else base - draw(st.integers(0, 2))
        rows = readings(draw, k, first, start, max(series, 1))
        if series == 0 and rows:
            rows[0] = (rows[0][0], 0, *rows[0][2:])
        incoming += [(index, *row) for row in rows]
    if not incoming:
        incoming.append((0, 50, 1, [5] * k, "remote", "measured"))
    if not forward:
        if draw(st.booleans()):
            incoming.append(incoming[draw(st.integers(0, len(incoming) - 1))])
        if draw(st.booleans()):
            incoming = draw(st.permutations(incoming))
    if forward:
        stored.sort(key=lambda r: r[0])
    product = Product.GAS if gas else Product.ELECTRICITY
    return product, columns(incoming, k), columns(stored, k)


def general(product: Product, incoming: DailyColumns, stored: DailyColumns) -> Decision:
    return decide(product, incoming, stored, FACTS, *_shape(product))


def _shape(product: Product) -> tuple[tuple[int, ...], tuple[str, ...]]:
    if product is Product.GAS:
        return (), GAS_REGISTERS
    return (2, 3), ELECTRICITY_REGISTERS


def _facts(product: Product, incoming: DailyColumns) -> tuple[np.ndarray, FactColumns]:
    eans = np.unique(incoming.ean)
    return eans, FactColumns.of(product, [FACTS.get(f"{e:018d}") for e in eans.tolist()])


def assert_same(fast: Decision, slow: Decision) -> None:
    assert fast.status.tolist() == slow.status.tolist()
    assert fast.reasons == slow.reasons
    assert fast.version.tolist() == slow.version.tolist()
    assert fast.estimates is not None
    assert slow.estimates is not None
    for name in ("ean", "day", "series", "registers", "source", "quality", "version"):
        assert getattr(fast.estimates, name).tolist() == getattr(slow.estimates, name).tolist()


@settings(max_examples=300, deadline=None)
@given(batches(forward=True))
def test_an_ordered_forward_batch_is_decided_in_one_pass_exactly_as_decide(case) -> None:  # type: ignore[no-untyped-def]
    product, incoming, stored = case
    eans, facts = _facts(product, incoming)
    fast = decide_forward(product, incoming, stored, eans, facts, *_shape(product))
    slow = general(product, incoming, stored)
    assert fast is not None
    assert_same(fast, slow)


@settings(max_examples=200, deadline=None)
@given(batches(forward=False))
def test_any_other_batch_gets_decides_answer(case) -> None:  # type: ignore[no-untyped-def]
    product, incoming, stored = case
    eans, facts = _facts(product, incoming)
    assert_same(
        decide_batch(product, incoming, stored, eans, facts, *_shape(product)),
        general(product, incoming, stored),
    )


def test_the_cases_the_pass_leaves_to_decide() -> None:
    one = (0, 5, 1, [100, 100, 0, 0], "remote", "measured")
    later = (0, 6, 1, [200, 200, 0, 0], "remote", "measured")
    empty = columns([], 4)
    product, shape = Product.ELECTRICITY, _shape(Product.ELECTRICITY)

    def forward(incoming: DailyColumns, stored: DailyColumns) -> Decision | None:
        eans, facts = _facts(product, incoming)
        return decide_forward(product, incoming, stored, eans, facts, *shape)

    assert forward(columns([one, later], 4), empty) is not None
    assert forward(columns([later, one], 4), empty) is None  # not in day order
    assert forward(columns([one, one], 4), empty) is None  # the same day twice
    assert forward(columns([later], 4), columns([one], 4)) is not None
    assert forward(columns([one], 4), columns([one], 4)) is None  # a stored day: duplicate
    estimate = (*one[:5], "estimated")
    assert forward(columns([later], 4), columns([estimate], 4)) is None
    earlier = (0, 4, 1, [50, 50, 0, 0], "remote", "measured")
    assert forward(columns([later], 4), columns([earlier, one], 4)) is None  # two stored rows


def test_a_connection_needing_more_than_ten_rounds_is_left_to_decide() -> None:
    # Each reading a little lower than the one before: every round refuses one more.
    rows = [(0, 1 + d, 1, [1_000 - d, 0, 0, 0], "remote", "measured") for d in range(13)]
    incoming = columns(rows, 4)
    eans, facts = _facts(Product.ELECTRICITY, incoming)
    shape = _shape(Product.ELECTRICITY)
    assert decide_forward(Product.ELECTRICITY, incoming, columns([], 4), eans, facts, *shape)
    # ^ one round: every pair falls at once. A zig-zag needs a round per survivor:
    zigzag = [1_000, 5_000, 900, 5_000, 800, 5_000, 700] * 3
    rows = [(0, 1 + d, 1, [v, 0, 0, 0], "remote", "measured") for d, v in enumerate(zigzag)]
    incoming = columns(rows, 4)
    fast = decide_forward(Product.ELECTRICITY, incoming, columns([], 4), eans, facts, *shape)
    slow = general(Product.ELECTRICITY, incoming, columns([], 4))
    if fast is not None:
        assert_same(fast, slow)


def _kernel_arguments(n: int = 3) -> dict[str, object]:
    return {
        "ean": np.array([1] * n, dtype=np.int64),
        "day": np.arange(n, dtype=np.int64),
        "series": np.ones(n, dtype=np.int64),
        "registers": np.zeros((4, n), dtype=np.int64),
        "customer": np.zeros(n, dtype=bool),
        "is_import": np.array([True, True, False, False]),
        "known": np.array([True]),
        "import_limit": np.array([1e9]),
        "export_limit": np.array([1e9]),
        "annual": np.array([1e6]),
        "stored_row": np.array([-1], dtype=np.int64),
        "stored_day": np.zeros(0, dtype=np.int64),
        "stored_series": np.zeros(0, dtype=np.int64),
        "stored_registers": np.zeros((4, 0), dtype=np.int64),
        "shares": np.zeros(1),
        "shares_origin": 0,
        "status": np.zeros(n, dtype=np.int8),
        "previous": np.zeros(n, dtype=np.int64),
    }


def test_the_kernel_accepts_well_formed_arguments() -> None:
    arguments = _kernel_arguments()
    assert _checks.check_forward(**arguments) is True  # type: ignore[arg-type]
    assert arguments["status"].tolist() == [0, 0, 0]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("day", np.arange(2, dtype=np.int64), "day: 2 items, expected 3"),
        ("day", np.arange(3, dtype=np.int32), "day: wrong item type"),
        ("registers", np.zeros((3, 3), dtype=np.int64), "registers: 9 items, expected 12"),
        ("registers", np.zeros((4, 6), dtype=np.int64)[:, ::2], "registers: not a contiguous"),
        ("import_limit", np.array([1e9, 1e9]), "import_limit: 2 items, expected 1"),
        ("stored_row", np.array([0], dtype=np.int64), "stored_row[0] = 0 is out of range"),
        ("status", np.zeros(3, dtype=np.int8)[:0], "status: 0 items, expected 3"),
        ("is_import", np.zeros(0, dtype=bool), "is_import: 0 registers"),
        ("ean", b"abc", "ean: wrong item type"),
        ("status", np.frombuffer(bytes(3), dtype=np.int8), "status: not a contiguous writable"),
    ],
)
def test_malformed_kernel_arguments_are_a_clear_value_error(name, value, message) -> None:  # type: ignore[no-untyped-def]
    arguments = _kernel_arguments()
    arguments[name] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        _checks.check_forward(**arguments)  # type: ignore[arg-type]


def test_a_customer_reading_outside_the_shares_is_a_value_error() -> None:
    arguments = _kernel_arguments()
    arguments["customer"] = np.array([False, True, False])
    with pytest.raises(ValueError, match="shares do not cover"):
        _checks.check_forward(**arguments)  # type: ignore[arg-type]


def test_facts_not_aligned_to_the_batch_make_it_fall_back() -> None:
    arguments = _kernel_arguments()
    arguments["ean"] = np.array([1, 2, 3], dtype=np.int64)  # three connections, facts for one
    assert _checks.check_forward(**arguments) is False  # type: ignore[arg-type]
