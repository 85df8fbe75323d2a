"""The head-end's rules: what to ask a meter for on a night, and what an answer must look like.

Pure: the crypto-server session is passed in, time is passed in. A night's request for a meter
is one get-request-with-list: the equipment identifier (to prove the right meter answered), the
daily profile for the days since the last stored reading (at most the 40 the meter remembers,
only days whose reading choice allows remote reading), the gas daily profile likewise, and the
interval profiles only for days with an interval grant.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from meterkast.dlms import xdlms
from meterkast.dlms.clock import encode_clock, local_midnight
from meterkast.grid.domain import Connection, ReadingChoiceChange, choice_on
from meterkast.kernel.codes import FrameRejection, MeterKind, Product, ReadingChoice, ReadOutcome
from meterkast.kernel.errors import DomainError
from meterkast.readings.api import ElectricityDaily, GasDaily, IntervalValue

MEMORY_DAYS = 40  # daily values a DSMR meter keeps
INVOKE_ID = 1
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


class InvalidResponseError(DomainError):
    """An authentic answer that cannot be used (wrong meter, unasked days, falling registers)."""

    code = "invalid-response"


@dataclass(frozen=True, slots=True)
class ReadTarget:
    """One smart E meter as the grid describes it, with the gas meter on its M-Bus."""

    serial: str
    ean: str
    choices: tuple[ReadingChoiceChange, ...] = ()
    gas_serial: str | None = None
    gas_ean: str | None = None
    gas_choices: tuple[ReadingChoiceChange, ...] = ()


class Progress(NamedTuple):
    """The last stored reading of a meter: its day and register values (a tuple: cheap)."""

    day: date
    values: tuple[int, ...]


class Kind(StrEnum):
    IDENTITY = "identity"
    E_DAILY = "e_daily"
    GAS_DAILY = "gas_daily"
    E_INTERVAL = "e_interval"
    GAS_INTERVAL = "gas_interval"


@dataclass(frozen=True, slots=True)
class Expect:
    kind: Kind
    # Daily kinds: the days asked for, by their 00:00 moment and by its canonical clock bytes.
    days: dict[datetime, date] = field(default_factory=dict)
    clocks: dict[bytes, date] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def midnight_clock(day: date) -> tuple[datetime, bytes]:
    moment = local_midnight(day)
    return moment, encode_clock(moment)


@dataclass(slots=True)
class ReadJob:
    target: ReadTarget
    items: list[xdlms.GetItem]
    expects: list[Expect]
    e_progress: Progress | None
    gas_progress: Progress | None
    # For the fast decoder: the canonical answer's opening bytes (header and identity), and
    # per following item (0 electricity daily, 1 gas daily, 2 other) the clock bytes asked.
    canonical_head: bytes = b""
    fast_plan: tuple[tuple[int, dict[bytes, date]], ...] = ()
    # Jobs with equal keys have answers of one canonical layout (see acquisition.columnar).
    layout_key: int = -1
    # The stored readings as plain ints for the bulk decoder: E day ordinal and 4 registers,
    # gas day ordinal and volume (-1 where there is none).
    before: tuple[int, ...] = (-1,) * 7

    @property
    def has_work(self) -> bool:
        return len(self.items) > 1


@dataclass(slots=True)
class MeterRead:
    """Everything one meter's answer gave, ready for the readings store."""

    electricity: list[ElectricityDaily] = field(default_factory=list)
    gas: list[GasDaily] = field(default_factory=list)
    intervals: list[IntervalValue] = field(default_factory=list)
    e_progress: Progress | None = None
    gas_progress: Progress | None = None


class ProgressUpdate(NamedTuple):
    meter_serial: str
    outcome: ReadOutcome
    at: datetime
    progress: Progress | None  # None: keep the stored reading as it is


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    meter_id: str
    occurred_at: datetime
    reason: FrameRejection
    frame_sha256: str


@lru_cache(maxsize=1024)
def _daily_request(
    attribute: xdlms.Attribute, kind: Kind, first: date, last: date
) -> tuple[xdlms.GetItem, Expect]:
    """Shared by every job asking the same days: a night's 100,000 jobs hold one copy."""
    item = xdlms.GetItem(attribute, local_midnight(first), local_midnight(last))
    asked = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    marks = [(d, *midnight_clock(d)) for d in asked]
    return item, Expect(kind, {m: d for d, m, _ in marks}, {c: d for d, _, c in marks})


def frame_digest(frame: bytes) -> str:
    """What a security event keeps of an offending frame: its SHA-256, nothing decryptable."""
    return hashlib.sha256(frame).hexdigest()


def days_to_read(
    day: date, last: Progress | None, choices: Sequence[ReadingChoiceChange]
) -> list[date]:
    """Days whose 00:00 reading is due: since the last stored one, within the meter's memory."""
    first = (
        day if last is None else max(last.day + timedelta(days=1), day - timedelta(MEMORY_DAYS - 1))
    )
    days = [first + timedelta(days=k) for k in range((day - first).days + 1)]
    history = list(choices)
    return [d for d in days if choice_on(history, d) is ReadingChoice.STANDARD]


def runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Sorted days grouped into runs of consecutive days (first, last)."""
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def plan_job(
    target: ReadTarget,
    day: date,
    e_progress: Progress | None,
    gas_progress: Progress | None,
    granted: Callable[[date], frozenset[str]],
) -> ReadJob:
    items = [xdlms.GetItem(xdlms.EQUIPMENT_ID)]
    expects = [Expect(Kind.IDENTITY)]
    streams = [(target.ean, target.choices, e_progress, xdlms.E_DAILY, xdlms.E_QUARTER_HOUR,
                Kind.E_DAILY, Kind.E_INTERVAL)]  # fmt: skip
    if target.gas_serial is not None and target.gas_ean is not None:
        streams.append((target.gas_ean, target.gas_choices, gas_progress, xdlms.GAS_DAILY,
                        xdlms.GAS_HOURLY, Kind.GAS_DAILY, Kind.GAS_INTERVAL))  # fmt: skip
    for ean, choices, progress, daily, interval, daily_kind, interval_kind in streams:
        days = days_to_read(day, progress, choices)
        for first, last in runs(days):
            item, expect = _daily_request(daily, daily_kind, first, last)
            items.append(item)
            expects.append(expect)
        # The interval data of the whole day that ends at each daily reading.
        history = list(choices)
        interval_days = [
            d - timedelta(days=1)
            for d in days
            if ean in granted(d - timedelta(days=1))
            and choice_on(history, d - timedelta(days=1)) is ReadingChoice.STANDARD
        ]
        for first, last in runs(interval_days):
            end = local_midnight(last + timedelta(days=1))
            items.append(xdlms.GetItem(interval, local_midnight(first), end))
            expects.append(Expect(interval_kind))
    serial = target.serial.encode("ascii")
    head = bytes((xdlms.GET_RESPONSE, xdlms.WITH_LIST, 0xC0 | INVOKE_ID, len(items) & 0x7F))
    head += bytes((0x00, 0x09, len(serial))) + serial
    codes = {Kind.E_DAILY: 0, Kind.GAS_DAILY: 1}
    plan = tuple((codes.get(e.kind, 2), e.clocks) for e in expects[1:])
    key = (len(head), tuple((code, tuple(clocks)) for code, clocks in plan))
    before = (
        *((-1,) * 5 if e_progress is None else (e_progress.day.toordinal(), *e_progress.values)),
        *((-1,) * 2 if gas_progress is None else (gas_progress.day.toordinal(),
                                                   *gas_progress.values)),
    )  # fmt: skip
    if len(before) != 7:
        raise InvalidResponseError("stored readings have the wrong number of registers")
    return ReadJob(target, items, expects, e_progress, gas_progress, head, plan, _layout_id(key),
                   before)  # fmt: skip


_LAYOUT_IDS: dict[object, int] = {}
_NEXT_ID = itertools.count()


def _layout_id(key: object) -> int:
    """A small int per distinct layout key (cheap to hash per meter); never reused."""
    found = _LAYOUT_IDS.get(key)
    if found is None:
        if len(_LAYOUT_IDS) >= 100_000:
            _LAYOUT_IDS.clear()
        found = _LAYOUT_IDS[key] = next(_NEXT_ID)
    return found


def targets_from(connections: Iterable[Connection]) -> list[ReadTarget]:
    """Every smart E meter of the grid, with the smart gas meter on its M-Bus if any."""
    electricity: dict[str, Connection] = {}
    gas_on: dict[str, Connection] = {}
    for c in connections:
        meter = c.meter
        if meter is None or meter.kind is not MeterKind.SMART:
            continue
        if c.product is Product.ELECTRICITY:
            electricity[meter.serial] = c
        elif meter.mbus_host_serial is not None:
            gas_on[meter.mbus_host_serial] = c
    targets = []
    for serial, c in sorted(electricity.items()):
        gas = gas_on.get(serial)
        gas_meter = None if gas is None else gas.meter
        targets.append(
            ReadTarget(
                serial=serial,
                ean=c.ean,
                choices=tuple(c.reading_choices),
                gas_serial=None if gas_meter is None else gas_meter.serial,
                gas_ean=None if gas is None else gas.ean,
                gas_choices=() if gas is None else tuple(gas.reading_choices),
            )
        )
    return targets
