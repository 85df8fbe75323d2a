"""Who lived where, and with which supplier, over the history window (pure, seeded)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

MOVE_RATE = 0.11  # share of households moving per year
SWITCH_RATE = 0.17  # share of households switching supplier per year
SAME_DAY_TURNOVER = 0.6  # moves where the next occupant starts the next day


@dataclass(frozen=True, slots=True)
class Occupancy:
    move_in: date
    move_out: date | None  # last day (inclusive); None while still living there


def _years(rng: random.Random, rate: float) -> timedelta:
    return timedelta(days=max(1, int(rng.expovariate(rate) * 365.25)))


def occupancies(rng: random.Random, history_start: date, as_of: date) -> Iterator[Occupancy]:
    """Occupants from the one living there at the window's start up to the as-of day."""
    move_in = history_start - timedelta(days=rng.randint(0, 15 * 365))
    while move_in < as_of:
        out = move_in + _years(rng, MOVE_RATE)
        if out >= as_of:
            yield Occupancy(move_in, None)
            return
        yield Occupancy(move_in, out)
        gap = 1 if rng.random() < SAME_DAY_TURNOVER else rng.randint(2, 120)
        move_in = out + timedelta(days=gap)


def supply_periods(
    rng: random.Random, occupancy: Occupancy, as_of: date
) -> Iterator[tuple[date, date | None]]:
    """Contract periods of one occupancy; after a switch the next starts the day after."""
    start = occupancy.move_in
    last = occupancy.move_out
    while True:
        end = start + _years(rng, SWITCH_RATE)
        if last is not None and end >= last:
            yield start, last
            return
        if end >= as_of:
            yield start, None
            return
        yield start, end
        start = end + timedelta(days=1)
