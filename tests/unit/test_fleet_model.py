"""The household model and the meter's memory."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.dlms import xdlms
from meterkast.dlms.clock import decode_clock, local_midnight
from meterkast.fleet.household import QUARTER, Household
from meterkast.fleet.memory import PROFILES, MeterKeys, MeterState, retained_captures
from meterkast.fleet.meter import SimulatedMeter, system_title_for
from meterkast.kernel.codes import MeterEvent, MeterEventLog, ProfileCategory

INSTALLED = date(2024, 2, 10)


def household(seed: int = 7, kwp: float = 3.5) -> Household:
    return Household.for_connection(seed, INSTALLED, ProfileCategory.E1A, kwp, ProfileCategory.G1A)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    start=st.dates(date(2024, 1, 1), date(2027, 12, 1)),
    quarters=st.integers(1, 400),
    kwp=st.sampled_from([0.0, 4.2]),
)
def test_registers_never_decrease(seed: int, start: date, quarters: int, kwp: float) -> None:
    base = local_midnight(start)
    moments = [base + k * QUARTER for k in range(quarters)]
    values = household(seed, kwp).registers_at(moments)
    assert (np.diff(values, axis=0) >= 0).all()
    assert (values >= 0).all()


def test_daily_and_quarter_hour_views_agree_and_start_at_installation() -> None:
    h = household()
    days = [INSTALLED - timedelta(days=1), INSTALLED, date(2025, 3, 30), date(2025, 10, 26)]
    at_midnight = h.registers_at([local_midnight(d) for d in days])
    assert (h.registers_on(days) == at_midnight).all()
    assert at_midnight[0].tolist() == [0, 0, 0, 0, 0] == at_midnight[1].tolist()
    # DST days: 92 and 100 quarter hours, and the day's end is the next day's start.
    for day, count in ((date(2025, 3, 30), 92), (date(2025, 10, 26), 100)):
        moments = [local_midnight(day) + k * QUARTER for k in range(count + 1)]
        assert moments[-1] == local_midnight(day + timedelta(days=1))
        values = h.registers_at(moments)
        assert (values[-1] == h.registers_on([day + timedelta(days=1)])[0]).all()


def test_tariffs_solar_and_gas_follow_the_clock_and_the_season() -> None:
    h = household()
    weekday, saturday = date(2025, 6, 4), date(2025, 6, 7)
    use = h.daily_use(weekday, weekday + timedelta(days=1))[0]
    assert use[1] > use[0] > 0  # weekday: most use in T2, some at night
    assert use[2] == 0 and use[3] > 0  # weekday solar lands in T2
    weekend = h.daily_use(saturday, saturday + timedelta(days=1))[0]
    assert weekend[1] == 0 and weekend[3] == 0  # weekend: all T1
    night = [local_midnight(weekday) + k * QUARTER for k in range(0, 28)]  # 00:00-07:00
    values = h.registers_at(night)
    assert (values[:, 1] == values[0, 1]).all()  # no T2 import at night
    assert (values[:, 3] == values[0, 3]).all()  # no solar at night
    winter = h.daily_use(date(2025, 1, 6), date(2025, 1, 13))[:, 4].sum()
    summer = h.daily_use(date(2025, 7, 7), date(2025, 7, 14))[:, 4].sum()
    assert winter > 2.5 * summer
    assert Household.for_connection(7, INSTALLED, ProfileCategory.E1A).daily_use(
        weekday, weekday + timedelta(days=1)
    )[0][2:].tolist() == [0, 0, 0]  # no solar, no gas


def test_rings_keep_their_dsmr_sizes() -> None:
    installed = local_midnight(INSTALLED)
    now = datetime(2025, 11, 20, 9, 7, tzinfo=UTC)
    sizes = {a: len(retained_captures(spec, installed, now)) for a, spec in PROFILES.items()}
    assert sizes == {
        xdlms.E_QUARTER_HOUR: 960, xdlms.E_DAILY: 40, xdlms.E_MONTHLY: 13,
        xdlms.GAS_HOURLY: 240, xdlms.GAS_DAILY: 40, xdlms.GAS_MONTHLY: 13,
    }  # fmt: skip
    daily = retained_captures(PROFILES[xdlms.E_DAILY], installed, now)
    assert daily[-1] == local_midnight(date(2025, 11, 20))
    assert daily[0] == local_midnight(date(2025, 10, 12))
    young = retained_captures(PROFILES[xdlms.E_DAILY], installed, installed + timedelta(days=3))
    assert len(young) == 4  # nothing from before installation


def _state() -> MeterState:
    keys = MeterKeys(bytes(16), bytes(range(16)), bytes(range(16, 32)))
    return MeterState("EKFM0000000042", "871687140000000010", system_title_for("EKFM0000000042"),
                      household(), keys, gas_serial="GKFM0000000042")  # fmt: skip


def test_event_logs_are_rings_and_state_round_trips() -> None:
    state = _state()
    at = datetime(2025, 5, 1, tzinfo=UTC)
    for k in range(150):
        state.log(at + timedelta(minutes=k), MeterEvent.POWER_UP)
        state.log(at + timedelta(minutes=k), MeterEvent.REPLAY_ATTEMPT)
    state.log(at, MeterEvent.TERMINAL_COVER_OPENED)
    assert [len(state.events[log]) for log in MeterEventLog] == [100, 1, 30]
    state.advance(datetime(2025, 5, 2, 3, 14, tzinfo=UTC))
    assert state.captured_until == datetime(2025, 5, 2, 3, 0, tzinfo=UTC)
    back = MeterState.from_bytes(state.to_bytes())
    assert back == state
    assert repr(bytes(range(16))) not in repr(state)
    assert bytes(range(16)).hex() not in repr(state)


def test_system_title_is_manufacturer_and_serial() -> None:
    assert system_title_for("EKFM0000000042") == b"KFM" + (42).to_bytes(5, "big")
    assert system_title_for("odd-serial")[:3] == b"MKS"
    assert len(system_title_for("odd-serial")) == 8


def test_meter_answers_only_what_its_memory_holds() -> None:
    meter = SimulatedMeter(_state())
    meter.state.advance(datetime(2025, 11, 20, 2, 0, tzinfo=UTC))
    spec = PROFILES[xdlms.E_DAILY]
    asked = (local_midnight(date(2025, 9, 1)), local_midnight(date(2025, 11, 20)))
    entries = meter.profile_entries(spec, *asked)
    assert len(entries) == 40
    first = entries[0]
    assert isinstance(first, tuple) and isinstance(first[0], bytes)
    assert decode_clock(first[0]) == local_midnight(date(2025, 10, 12))
    old = meter.profile_entries(spec, asked[0], local_midnight(date(2025, 10, 1)))
    assert old == []


def test_electricity_and_gas_meters_with_the_same_number_have_distinct_titles() -> None:
    from meterkast.fleet.meter import system_title_for

    e, g = system_title_for("EKFM0000000007"), system_title_for("GKFM0000000007")
    assert len(e) == len(g) == 8 and e[:3] == g[:3] == b"KFM" and e != g
