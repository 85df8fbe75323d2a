"""The plaintext xDLMS APDUs of the meter link: get-request and get-response.

One attribute goes as ``-normal`` (C0 01 / C4 01), several as ``-with-list`` (C0 03 / C4 03),
so a head-end fetches a meter's whole night in one secured exchange. Profiles are read with
selective access by range (access selector 1): ``structure { restricting object (the clock
0.0.1.0.0.255 attribute 2), from clock, to clock, selected values (empty array = all columns) }``
with both ends inclusive. Blocks (get-response-with-datablock) are not modelled: a response is
one APDU whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from meterkast.dlms.axdr import Data, Num, Tag, decode, decode_length, encode, encode_length
from meterkast.dlms.clock import decode_clock, encode_clock
from meterkast.dlms.errors import AxdrError

GET_REQUEST, GET_RESPONSE = 0xC0, 0xC4
NORMAL, WITH_LIST = 0x01, 0x03
RANGE_SELECTOR = 1


def obis(text: str) -> bytes:
    """``1.0.99.2.0.255`` -> its six bytes."""
    parts = [int(p) for p in text.split(".")]
    if len(parts) != 6 or not all(0 <= p <= 255 for p in parts):
        raise ValueError(f"not an OBIS code: {text}")
    return bytes(parts)


@dataclass(frozen=True, slots=True)
class Attribute:
    class_id: int
    logical_name: bytes
    attribute: int = 2


CLOCK = Attribute(8, obis("0.0.1.0.0.255"))
EQUIPMENT_ID = Attribute(1, obis("0.0.96.1.1.255"))
GAS_EQUIPMENT_ID = Attribute(1, obis("0.1.96.1.0.255"))  # the M-Bus device's own identifier
E_QUARTER_HOUR = Attribute(7, obis("1.0.99.1.0.255"))
E_DAILY = Attribute(7, obis("1.0.99.2.0.255"))
E_MONTHLY = Attribute(7, obis("1.0.98.1.0.255"))
# Gas values of M-Bus channel 1, read through the E meter. The hourly profile is DSMR's
# 0.1.24.3.0.255; the daily and monthly objects are this project's own assignment.
GAS_HOURLY = Attribute(7, obis("0.1.24.3.0.255"))
GAS_DAILY = Attribute(7, obis("0.1.24.3.1.255"))
GAS_MONTHLY = Attribute(7, obis("0.1.24.3.2.255"))


class AccessResult(IntEnum):
    """Data-access-result codes a meter answers instead of data."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_UNAVAILABLE = 11
    OTHER_REASON = 250


@dataclass(frozen=True, slots=True)
class GetItem:
    """One attribute to read, optionally restricted to captures between two moments."""

    attribute: Attribute
    from_moment: datetime | None = None
    to_moment: datetime | None = None

    def __post_init__(self) -> None:
        if (self.from_moment is None) != (self.to_moment is None):
            raise ValueError("a range needs both ends")


Result = Data | AccessResult


def _invoke_byte(invoke_id: int) -> int:
    if not 0 <= invoke_id <= 15:
        raise ValueError("invoke id is 0..15")
    return 0xC0 | invoke_id  # high priority, confirmed service


def _encode_item(item: GetItem, out: bytearray) -> None:
    a = item.attribute
    out += a.class_id.to_bytes(2, "big") + a.logical_name + bytes((a.attribute,))
    if item.from_moment is None or item.to_moment is None:
        out.append(0)
        return
    descriptor: Data = (
        (Num(Tag.LONG_UNSIGNED, 8), CLOCK.logical_name, Num(Tag.INTEGER, 2),
         Num(Tag.LONG_UNSIGNED, 0)),
        encode_clock(item.from_moment),
        encode_clock(item.to_moment),
        [],
    )  # fmt: skip
    out += bytes((1, RANGE_SELECTOR)) + encode(descriptor)


def encode_get_request(invoke_id: int, items: Sequence[GetItem]) -> bytes:
    if not items:
        raise ValueError("a get-request names at least one attribute")
    out = bytearray((GET_REQUEST, NORMAL if len(items) == 1 else WITH_LIST))
    out.append(_invoke_byte(invoke_id))
    if len(items) > 1:
        out += encode_length(len(items))
    for item in items:
        _encode_item(item, out)
    return bytes(out)


def _decode_item(apdu: bytes, pos: int) -> tuple[GetItem, int]:
    if pos + 10 > len(apdu):
        raise AxdrError("truncated attribute descriptor")
    attribute = Attribute(
        int.from_bytes(apdu[pos : pos + 2], "big"), bytes(apdu[pos + 2 : pos + 8]), apdu[pos + 8]
    )
    has_access, pos = apdu[pos + 9], pos + 10
    if not has_access:
        return GetItem(attribute), pos
    if pos >= len(apdu) or apdu[pos] != RANGE_SELECTOR:
        raise AxdrError("only selective access by range is supported")
    descriptor, pos = decode(apdu, pos + 1)
    if not (
        isinstance(descriptor, tuple)
        and len(descriptor) == 4
        and isinstance(descriptor[1], bytes)
        and isinstance(descriptor[2], bytes)
    ):
        raise AxdrError("malformed range descriptor")
    start, end = decode_clock(descriptor[1]), decode_clock(descriptor[2])
    return GetItem(attribute, start, end), pos


def _header(apdu: bytes, tag: int, minimum: int, what: str) -> tuple[int, int, int]:
    """(invoke id, item count, position of the first item) of a -normal or -with-list APDU."""
    if len(apdu) < minimum or apdu[0] != tag or apdu[1] not in (NORMAL, WITH_LIST):
        raise AxdrError(f"not a {what}")
    if apdu[1] == WITH_LIST:
        count, pos = decode_length(apdu, 3)
        return apdu[2] & 0x0F, count, pos
    return apdu[2] & 0x0F, 1, 3


def decode_get_request(apdu: bytes) -> tuple[int, list[GetItem]]:
    """(invoke id, items) of a get-request-normal or -with-list."""
    invoke_id, count, pos = _header(apdu, GET_REQUEST, 3, "get-request")
    items = []
    for _ in range(count):
        item, pos = _decode_item(apdu, pos)
        items.append(item)
    if pos != len(apdu):
        raise AxdrError("trailing bytes after get-request")
    return invoke_id, items


def encode_get_response(invoke_id: int, results: Sequence[Result], with_list: bool) -> bytes:
    out = bytearray((GET_RESPONSE, WITH_LIST if with_list else NORMAL))
    out.append(_invoke_byte(invoke_id))
    if with_list:
        out += encode_length(len(results))
    elif len(results) != 1:
        raise ValueError("a get-response-normal carries one result")
    for result in results:
        if isinstance(result, AccessResult):
            out += bytes((1, result))
        else:
            out.append(0)
            out += encode(result)
    return bytes(out)


def decode_get_response(apdu: bytes) -> tuple[int, list[Result]]:
    invoke_id, count, pos = _header(apdu, GET_RESPONSE, 4, "get-response")
    results: list[Result] = []
    for _ in range(count):
        if pos >= len(apdu):
            raise AxdrError("truncated get-response")
        choice, pos = apdu[pos], pos + 1
        if choice == 0:
            value, pos = decode(apdu, pos)
            results.append(value)
        elif choice == 1 and pos < len(apdu):
            try:
                results.append(AccessResult(apdu[pos]))
            except ValueError:
                results.append(AccessResult.OTHER_REASON)
            pos += 1
        else:
            raise AxdrError("bad get-data-result choice")
    if pos != len(apdu):
        raise AxdrError("trailing bytes after get-response")
    return invoke_id, results
