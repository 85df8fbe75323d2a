"""Supply contracts never overlap per connection: checked against a day-by-day model."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterkast.kernel.errors import ConflictError, InvalidValueError
from meterkast.parties.domain import (
    Contract,
    CustomerId,
    Ean13,
    check_no_overlap,
    contract_on,
)

EAN = "871690000000000017"
BASE = date(2025, 1, 1)


def _contract(start: int, length: int | None, cid: int = 1) -> Contract:
    return Contract(
        id=cid,
        connection_ean=EAN,
        customer_id=CustomerId("C00000001"),
        supplier_ean=Ean13("8719900000011"),
        start=BASE + timedelta(days=start),
        end=None if length is None else BASE + timedelta(days=start + length),
    )


def _days(c: Contract, horizon: int = 400) -> set[date]:
    last = c.end or BASE + timedelta(days=horizon)
    return {c.start + timedelta(days=i) for i in range((last - c.start).days + 1)}


periods = st.tuples(st.integers(0, 300), st.one_of(st.none(), st.integers(0, 60)))


@given(periods, periods)
def test_overlap_matches_shared_days(a: tuple[int, int | None], b: tuple[int, int | None]) -> None:
    first, second = _contract(*a), _contract(*b, cid=2)
    shares_a_day = bool(_days(first) & _days(second))
    assert first.overlaps(second) is shares_a_day
    if shares_a_day:
        with pytest.raises(ConflictError):
            check_no_overlap([first], second)
    else:
        check_no_overlap([first], second)


def test_end_day_is_included_so_a_switch_starts_the_day_after() -> None:
    old = _contract(0, 30)
    with pytest.raises(ConflictError):
        check_no_overlap([old], _contract(30, None, cid=2))
    check_no_overlap([old], _contract(31, None, cid=2))
    assert contract_on([old], BASE + timedelta(days=30)) == old
    assert contract_on([old], BASE + timedelta(days=31)) is None


def test_contract_end_register_earliest_end() -> None:
    fixed = replace(_contract(0, None), term_end=date(2026, 6, 30))
    assert fixed.earliest_end(date(2026, 1, 1)) == date(2026, 6, 30)
    assert fixed.earliest_end(date(2026, 6, 15)) == date(2026, 7, 15)


def test_inverted_contract_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        _contract(10, -1)
