"""Reading one meter's answer: decode and validate (``acquisition.batch`` verifies first).

Two per-meter decoders with one verdict; the bulk decoder (``acquisition.columnar``) takes the
common case first and hands everything it does not accept to these. The fast path recognises
the canonical layout this head-end's requests produce (get-response-with-list, short lengths,
fixed-size entries) with precompiled structs and clock-byte lookups; anything else - another
valid encoding or an invalid answer - goes through the generic A-XDR decoder, which alone
decides what is wrong.
"""

from __future__ import annotations

import struct
from datetime import date, datetime

from meterkast.acquisition.domain import (
    HOUR,
    INVOKE_ID,
    QUARTER,
    InvalidResponseError,
    Kind,
    MeterRead,
    Progress,
    ReadJob,
)
from meterkast.dlms import xdlms
from meterkast.dlms.axdr import Num
from meterkast.dlms.clock import decode_clock
from meterkast.dlms.errors import AxdrError
from meterkast.readings.api import ElectricityDaily, GasDaily, IntervalValue


def request_apdu(job: ReadJob) -> bytes:
    return xdlms.encode_get_request(INVOKE_ID, job.items)


def generic_read(job: ReadJob, plaintext: bytes) -> MeterRead:
    """Decode with the full A-XDR decoder and validate; raise on anything unusable."""
    invoke_id, results = xdlms.decode_get_response(plaintext)
    if invoke_id != INVOKE_ID or len(results) != len(job.items):
        raise InvalidResponseError("answer does not match the request")
    read = MeterRead(e_progress=job.e_progress, gas_progress=job.gas_progress)
    target = job.target
    for expect, item, result in zip(job.expects, job.items, results, strict=True):
        if expect.kind is Kind.IDENTITY:
            if result != target.serial.encode("ascii"):
                raise InvalidResponseError("answer names another meter")
            continue
        if isinstance(result, xdlms.AccessResult):
            continue  # the meter has no such data now; asked again next night
        entries = _entries(result)
        if expect.kind is Kind.E_DAILY:
            read.e_progress = _electricity(target.ean, expect.days, entries, read)
        elif expect.kind is Kind.GAS_DAILY:
            assert target.gas_ean is not None  # noqa: S101 - only planned with a gas EAN
            read.gas_progress = _gas(target.gas_ean, expect.days, entries, read)
        else:
            gas = expect.kind is Kind.GAS_INTERVAL
            ean = target.gas_ean if gas else target.ean
            assert ean is not None and item.from_moment and item.to_moment  # noqa: S101
            _intervals(ean, gas, item.from_moment, item.to_moment, entries, read.intervals)
    return read


def _entries(result: object) -> list[tuple[object, ...]]:
    if not isinstance(result, list) or not all(isinstance(e, tuple) for e in result):
        raise InvalidResponseError("a profile answer must be an array of structures")
    return result


def _u32s(entry: tuple[object, ...], start: int, count: int) -> tuple[int, ...]:
    values = [v.value for v in entry[start : start + count] if isinstance(v, Num)]
    if len(values) != count:
        raise InvalidResponseError("profile entry has the wrong columns")
    return tuple(values)


def _clock(raw: object) -> datetime:
    if not isinstance(raw, bytes):
        raise InvalidResponseError("profile entry without a clock")
    try:
        return decode_clock(raw)
    except AxdrError as error:
        raise InvalidResponseError(str(error)) from None


def _day_of(raw: object, asked: dict[datetime, date]) -> date:
    day = asked.get(_clock(raw))
    if day is None:
        raise InvalidResponseError("answer holds a day that was not asked for")
    return day


def _check_rise(previous: Progress | None, day: date, values: tuple[int, ...]) -> None:
    if previous is not None:
        if day <= previous.day:
            raise InvalidResponseError("profile entries out of order")
        if any(v < p for v, p in zip(values, previous.values, strict=True)):
            raise InvalidResponseError("a register went down")


def _electricity(
    ean: str, asked: dict[datetime, date], entries: list[tuple[object, ...]], read: MeterRead
) -> Progress | None:
    last = read.e_progress
    for entry in entries:
        if len(entry) != 5:
            raise InvalidResponseError("daily entry has the wrong columns")
        day = _day_of(entry[0], asked)
        values = _u32s(entry, 1, 4)
        _check_rise(last, day, values)
        t1, t2, x1, x2 = values
        read.electricity.append(ElectricityDaily(ean, day, t1, t2, x1, x2))
        last = Progress(day, values)
    return last


def _gas(
    ean: str, asked: dict[datetime, date], entries: list[tuple[object, ...]], read: MeterRead
) -> Progress | None:
    last = read.gas_progress
    for entry in entries:
        if len(entry) != 3:
            raise InvalidResponseError("gas entry has the wrong columns")
        day = _day_of(entry[0], asked)
        values = _u32s(entry, 2, 1)
        _check_rise(last, day, values)
        read.gas.append(GasDaily(ean, day, values[0], _clock(entry[1])))
        last = Progress(day, values)
    return last


def _intervals(
    ean: str, gas: bool, start: datetime, end: datetime, entries: list[tuple[object, ...]],
    out: list[IntervalValue],
) -> None:  # fmt: skip
    step = HOUR if gas else QUARTER
    previous: tuple[datetime, int] | None = None
    for entry in entries:
        moment = _clock(entry[0])
        if not start <= moment <= end:
            raise InvalidResponseError("interval entry outside the asked range")
        total = _u32s(entry, 2, 1)[0] if gas else sum(_u32s(entry, 1, 2))
        if previous is not None:
            if moment <= previous[0] or total < previous[1]:
                raise InvalidResponseError("interval entries out of order or falling")
            if moment - previous[0] == step:  # a gap in the meter's memory gives no value
                out.append(IntervalValue(ean, previous[0], total - previous[1]))
        previous = (moment, total)


_E_ENTRY = struct.Struct(">4s12sBIBIBIBI")  # structure(5){clock, 4 x double-long-unsigned}
_E_HEAD = bytes((0x02, 0x05, 0x09, 0x0C))
_G_ENTRY = struct.Struct(">4s12s2s12sBI")  # structure(3){clock, capture time, volume}
_G_HEAD = bytes((0x02, 0x03, 0x09, 0x0C))
_E_SIZE, _G_SIZE = _E_ENTRY.size, _G_ENTRY.size
_E_UNPACK, _G_UNPACK = _E_ENTRY.unpack_from, _G_ENTRY.unpack_from
_NO_E = (date.min, (-1, -1, -1, -1))
_NO_GAS = (date.min, (-1,))
_LIST = struct.Struct(">HB")  # get-data-result "data" (00), array (01), short count
_DATA_ARRAY = 0x0001
_OCTETS_12 = bytes((0x09, 0x0C))
_U32 = 0x06
_CAPTURED: dict[bytes, datetime] = {}


def _captured_at(raw: bytes) -> datetime:
    moment = _CAPTURED.get(raw)
    if moment is None:
        moment = decode_clock(raw)
        if len(_CAPTURED) < 10_000:
            _CAPTURED[raw] = moment
    return moment


def fast_read(job: ReadJob, plaintext: bytes) -> MeterRead | None:
    """The read, when the answer has the canonical layout and passes every check; else None.

    Written for speed (it runs once per meter per night): plain ints, locals, no enums.
    """
    head = job.canonical_head
    if not plaintext.startswith(head) or len(job.items) >= 0x80:
        return None
    pos, size = len(head), len(plaintext)
    target = job.target
    e_last, gas_last = job.e_progress, job.gas_progress
    electricity: list[ElectricityDaily] = []
    gas: list[GasDaily] = []
    try:
        for code, clocks in job.fast_plan:
            marker, entries = _LIST.unpack_from(plaintext, pos)
            if code == 2 or marker != _DATA_ARRAY or entries >= 0x80:
                return None
            pos += 3
            if code == 0:
                ean = target.ean
                last_day, (la, lb, lc, ld) = e_last or _NO_E
                for _ in range(entries):
                    lead, clock, t1, a, t2, b, t3, c, t4, d = _E_UNPACK(plaintext, pos)
                    pos += _E_SIZE
                    day = clocks.get(clock)
                    if (
                        day is None or lead != _E_HEAD or t1 != _U32 or t2 != _U32 or t3 != _U32
                        or t4 != _U32 or day <= last_day or a < la or b < lb or c < lc or d < ld
                    ):  # fmt: skip
                        return None
                    electricity.append(ElectricityDaily(ean, day, a, b, c, d))
                    last_day, la, lb, lc, ld = day, a, b, c, d
                if entries:
                    e_last = Progress(last_day, (la, lb, lc, ld))
            else:
                gas_ean = target.gas_ean
                if gas_ean is None:
                    return None
                last_day, (lv,) = gas_last or _NO_GAS
                for _ in range(entries):
                    lead, clock, tag, captured, t, volume = _G_UNPACK(plaintext, pos)
                    pos += _G_SIZE
                    day = clocks.get(clock)
                    at = _CAPTURED.get(captured) or _captured_at(captured)
                    if (
                        day is None or lead != _G_HEAD or tag != _OCTETS_12 or t != _U32
                        or day <= last_day or volume < lv
                    ):  # fmt: skip
                        return None
                    gas.append(GasDaily(gas_ean, day, volume, at))
                    last_day, lv = day, volume
                if entries:
                    gas_last = Progress(last_day, (lv,))
    except (struct.error, AxdrError):  # ran off the end, or a capture time that is no clock
        return None
    if pos != size:
        return None
    return MeterRead(electricity, gas, [], e_last, gas_last)
