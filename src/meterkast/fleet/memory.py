"""DSMR meter memory: profile rings, event logs, and the state a meter keeps between sessions.

Profile entries are a pure function of the household model and the capture moment, so a ring
is kept as its window - the last ``capacity`` captures up to the last capture the meter made
(never before installation) - and its entries are computed when read. That keeps a meter's
stored state to a few hundred bytes. Event logs are real rings of their DSMR sizes.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from meterkast.dlms import xdlms
from meterkast.dlms.clock import local_midnight
from meterkast.fleet.household import QUARTER, Household
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import MeterEvent, MeterEventLog


class Schedule(StrEnum):
    QUARTER_HOUR = "quarter_hour"
    HOUR = "hour"
    DAY = "day"  # 00:00 Dutch time
    MONTH = "month"  # 00:00 on the 1st


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    capacity: int
    schedule: Schedule
    gas: bool


PROFILES: dict[xdlms.Attribute, ProfileSpec] = {
    xdlms.E_QUARTER_HOUR: ProfileSpec(960, Schedule.QUARTER_HOUR, gas=False),
    xdlms.E_DAILY: ProfileSpec(40, Schedule.DAY, gas=False),
    xdlms.E_MONTHLY: ProfileSpec(13, Schedule.MONTH, gas=False),
    xdlms.GAS_HOURLY: ProfileSpec(240, Schedule.HOUR, gas=True),
    xdlms.GAS_DAILY: ProfileSpec(40, Schedule.DAY, gas=True),
    xdlms.GAS_MONTHLY: ProfileSpec(13, Schedule.MONTH, gas=True),
}
EVENT_LOG_SIZES = {MeterEventLog.STANDARD: 100, MeterEventLog.FRAUD: 30,
                   MeterEventLog.COMMUNICATION: 30}  # fmt: skip
_EVENT_LOGS = {
    MeterEvent.POWER_DOWN: MeterEventLog.STANDARD,
    MeterEvent.POWER_UP: MeterEventLog.STANDARD,
    MeterEvent.KEYS_INSTALLED: MeterEventLog.STANDARD,
    MeterEvent.TERMINAL_COVER_OPENED: MeterEventLog.FRAUD,
    MeterEvent.DECRYPTION_FAILURE: MeterEventLog.COMMUNICATION,
    MeterEvent.REPLAY_ATTEMPT: MeterEventLog.COMMUNICATION,
    MeterEvent.MALFORMED_REQUEST: MeterEventLog.COMMUNICATION,
}


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def retained_captures(
    spec: ProfileSpec,
    installed: datetime,
    captured_until: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[datetime]:
    """Capture moments (UTC) still in the ring, restricted to [start, end] when given."""
    lo = max(installed, start) if start is not None else installed
    hi = min(captured_until, end) if end is not None else captured_until
    if hi < lo:
        return []
    moments: list[datetime]
    if spec.schedule in (Schedule.QUARTER_HOUR, Schedule.HOUR):
        step = QUARTER if spec.schedule is Schedule.QUARTER_HOUR else timedelta(hours=1)
        last = _floor(captured_until, step)
        first = max(last - (spec.capacity - 1) * step, _ceil(lo, step))
        moments = []
        moment = first
        while moment <= hi:
            moments.append(moment)
            moment += step
        return moments
    last_day = local_day(captured_until)
    # Only the days (or months) inside [lo, hi] are turned into moments: a one-day range costs
    # one time-zone conversion, not forty.
    lo_day, hi_day = local_day(lo) - timedelta(days=1), local_day(hi)
    if spec.schedule is Schedule.DAY:
        days = [last_day - timedelta(days=k) for k in range(spec.capacity)]
    else:
        days = [_month_start(last_day, k) for k in range(spec.capacity)]
    moments = sorted(local_midnight(d) for d in days if lo_day <= d <= hi_day)
    return [m for m in moments if lo <= m <= hi]


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floored = _floor(moment, step)
    return floored if floored == moment else floored + step


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    at: datetime
    event: MeterEvent


@dataclass(slots=True)
class MeterKeys:
    """A meter's unicast keys (plaintext only inside the simulated device and its sealed state)."""

    master: bytes = field(repr=False)
    authentication: bytes = field(repr=False)
    encryption: bytes = field(repr=False)
    gas_master: bytes = field(default=b"", repr=False)
    gas_encryption: bytes = field(default=b"", repr=False)


@dataclass(slots=True)
class MeterState:
    """Everything a simulated E meter (and the gas meter on its M-Bus) keeps between sessions."""

    serial: str
    ean: str
    system_title: bytes
    household: Household
    keys: MeterKeys
    gas_serial: str | None = None
    invocation_counter: int = 0  # last counter this meter used
    client_counters: dict[str, int] = field(default_factory=dict)  # client title hex -> last
    captured_until: datetime | None = None
    events: dict[MeterEventLog, deque[LoggedEvent]] = field(default_factory=dict)
    # The gas meter's own secure channel (M-Bus device, its own title and counters).
    gas_invocation_counter: int = 0
    gas_client_counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for log, size in EVENT_LOG_SIZES.items():
            self.events[log] = deque(self.events.get(log, ()), maxlen=size)

    @property
    def installed(self) -> datetime:
        return local_midnight(self.household.installed_on)

    def log(self, at: datetime, event: MeterEvent) -> None:
        self.events[_EVENT_LOGS[event]].append(LoggedEvent(at, event))

    def advance(self, now: datetime) -> None:
        """Make every capture up to ``now``; the rings move with the window."""
        last = _floor(now, QUARTER)
        if self.captured_until is None or last > self.captured_until:
            self.captured_until = last

    def to_bytes(self) -> bytes:
        h, k = self.household, self.keys
        record = {
            "serial": self.serial, "ean": self.ean, "title": self.system_title.hex(),
            "gas_serial": self.gas_serial, "ic": self.invocation_counter,
            "clients": self.client_counters, "gas_ic": self.gas_invocation_counter,
            "gas_clients": self.gas_client_counters,
            "until": None if self.captured_until is None else self.captured_until.isoformat(),
            "household": [h.seed, h.installed_on.isoformat(), h.daily_wh, h.solar_kwp,
                          h.gas_m3_per_degree_day, h.gas_base_m3],
            "keys": [k.master.hex(), k.authentication.hex(), k.encryption.hex(),
                     k.gas_master.hex(), k.gas_encryption.hex()],
            "events": {log.value: [[e.at.isoformat(), e.event.value] for e in ring]
                       for log, ring in self.events.items()},
        }  # fmt: skip
        return json.dumps(record, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> MeterState:
        r = json.loads(raw)
        seed, installed, daily, kwp, gas_k, gas_base = r["household"]
        keys = [bytes.fromhex(x) for x in r["keys"]]
        return cls(
            serial=r["serial"],
            ean=r["ean"],
            system_title=bytes.fromhex(r["title"]),
            household=Household(seed, date.fromisoformat(installed), daily, kwp, gas_k, gas_base),
            keys=MeterKeys(*keys),
            gas_serial=r["gas_serial"],
            invocation_counter=r["ic"],
            client_counters=r["clients"],
            captured_until=None if r["until"] is None else datetime.fromisoformat(r["until"]),
            events={
                MeterEventLog(log): deque(
                    LoggedEvent(datetime.fromisoformat(at), MeterEvent(ev)) for at, ev in items
                )
                for log, items in r["events"].items()
            },
            gas_invocation_counter=r.get("gas_ic", 0),
            gas_client_counters=r.get("gas_clients", {}),
        )
