"""A-XDR encoding of COSEM ``Data`` (the subset the meter link uses), and the DLMS clock.

Python values map onto Data choices as follows: ``None`` null-data, ``bool`` boolean, ``bytes``
octet-string, ``str`` visible-string, ``list`` array, ``tuple`` structure, :class:`Num` every
integer type (its tag says which). Pure functions, no I/O: shared by the simulated meters and the
head-end until ``meterkast.dlms`` carries the same primitives.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum

from meterkast.kernel.clock import AMSTERDAM
from meterkast.kernel.errors import DomainError


class AxdrError(DomainError):
    """Bytes that are not valid A-XDR for what was expected."""

    code = "axdr"


class Tag(IntEnum):
    NULL = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22


_INT_FORMATS: dict[Tag, str] = {
    Tag.DOUBLE_LONG: ">i",
    Tag.DOUBLE_LONG_UNSIGNED: ">I",
    Tag.INTEGER: ">b",
    Tag.LONG: ">h",
    Tag.UNSIGNED: ">B",
    Tag.LONG_UNSIGNED: ">H",
    Tag.LONG64: ">q",
    Tag.LONG64_UNSIGNED: ">Q",
    Tag.ENUM: ">B",
}
_INT_STRUCTS = {tag: struct.Struct(fmt) for tag, fmt in _INT_FORMATS.items()}


@dataclass(frozen=True, slots=True)
class Num:
    """An integer Data value with its A-XDR type."""

    tag: Tag
    value: int

    def __post_init__(self) -> None:
        if self.tag not in _INT_STRUCTS:
            raise AxdrError(f"{self.tag.name} is not an integer type")
        try:
            _INT_STRUCTS[self.tag].pack(self.value)
        except struct.error:
            raise AxdrError(f"{self.value} does not fit {self.tag.name}") from None


Data = None | bool | bytes | str | Num | list["Data"] | tuple["Data", ...]


def encode_length(n: int) -> bytes:
    """A-XDR length: one byte below 128, else 0x80|count followed by count big-endian bytes."""
    if n < 0:
        raise AxdrError("a length is never negative")
    if n < 0x80:
        return bytes((n,))
    size = (n.bit_length() + 7) // 8
    if size > 4:
        raise AxdrError("length too large")
    return bytes((0x80 | size,)) + n.to_bytes(size, "big")


def decode_length(buf: bytes, pos: int) -> tuple[int, int]:
    """(length, position after it)."""
    try:
        first = buf[pos]
    except IndexError:
        raise AxdrError("truncated length") from None
    if first < 0x80:
        return first, pos + 1
    size = first & 0x7F
    if not 1 <= size <= 4 or pos + 1 + size > len(buf):
        raise AxdrError("bad length encoding")
    return int.from_bytes(buf[pos + 1 : pos + 1 + size], "big"), pos + 1 + size


def encode(value: Data) -> bytes:
    out = bytearray()
    _encode_into(value, out)
    return bytes(out)


def _encode_into(value: Data, out: bytearray) -> None:
    if value is None:
        out.append(Tag.NULL)
    elif isinstance(value, bool):
        out += bytes((Tag.BOOLEAN, 0xFF if value else 0x00))
    elif isinstance(value, bytes):
        out.append(Tag.OCTET_STRING)
        out += encode_length(len(value)) + value
    elif isinstance(value, str):
        raw = value.encode("ascii")
        out.append(Tag.VISIBLE_STRING)
        out += encode_length(len(raw)) + raw
    elif isinstance(value, Num):
        out.append(value.tag)
        out += _INT_STRUCTS[value.tag].pack(value.value)
    else:
        out.append(Tag.ARRAY if isinstance(value, list) else Tag.STRUCTURE)
        out += encode_length(len(value))
        for item in value:
            _encode_into(item, out)


def decode(buf: bytes, pos: int = 0) -> tuple[Data, int]:
    """Decode one Data value at ``pos``; return it and the position after it."""
    try:
        tag = Tag(buf[pos])
    except IndexError:
        raise AxdrError("truncated data") from None
    except ValueError:
        raise AxdrError(f"unsupported data tag {buf[pos]}") from None
    pos += 1
    if tag is Tag.NULL:
        return None, pos
    if tag is Tag.BOOLEAN:
        _need(buf, pos, 1)
        return buf[pos] != 0, pos + 1
    if tag in (Tag.OCTET_STRING, Tag.VISIBLE_STRING):
        n, pos = decode_length(buf, pos)
        _need(buf, pos, n)
        raw = bytes(buf[pos : pos + n])
        if tag is Tag.OCTET_STRING:
            return raw, pos + n
        try:
            return raw.decode("ascii"), pos + n
        except UnicodeDecodeError:
            raise AxdrError("visible-string is not ASCII") from None
    if tag in (Tag.ARRAY, Tag.STRUCTURE):
        n, pos = decode_length(buf, pos)
        items: list[Data] = []
        for _ in range(n):
            item, pos = decode(buf, pos)
            items.append(item)
        return (items if tag is Tag.ARRAY else tuple(items)), pos
    fmt = _INT_STRUCTS[tag]
    _need(buf, pos, fmt.size)
    return Num(tag, fmt.unpack_from(buf, pos)[0]), pos + fmt.size


def _need(buf: bytes, pos: int, n: int) -> None:
    if pos + n > len(buf):
        raise AxdrError("truncated data")


def u32(value: int) -> Num:
    return Num(Tag.DOUBLE_LONG_UNSIGNED, value)


# --- COSEM date-time (12 bytes): year(2) month day weekday hour minute second hundredths
# deviation(2, signed minutes, UTC = local + deviation) clock-status (0x80 = summer time).

CLOCK_SIZE = 12
_CLOCK = struct.Struct(">HBBBBBBBhB")


def encode_clock(moment: datetime) -> bytes:
    """The clock of an aware moment, in Dutch local time with its deviation from UTC."""
    local = moment.astimezone(AMSTERDAM)
    offset = local.utcoffset() or timedelta(0)
    deviation = -int(offset.total_seconds() // 60)
    status = 0x80 if local.dst() else 0x00
    return _CLOCK.pack(
        local.year, local.month, local.day, local.isoweekday(), local.hour, local.minute,
        local.second, local.microsecond // 10_000, deviation, status,
    )  # fmt: skip


def decode_clock(raw: bytes) -> datetime:
    """The UTC moment a fully specified clock value names."""
    if len(raw) != CLOCK_SIZE:
        raise AxdrError("a clock is 12 bytes")
    year, month, day, _dow, hour, minute, second, hundredths, deviation, _status = _CLOCK.unpack(
        raw
    )
    if deviation == -0x8000 or 0xFF in (month, day, hour, minute, second):
        raise AxdrError("clock value is not fully specified")
    try:
        local = datetime(year, month, day, hour, minute, second, hundredths * 10_000, tzinfo=UTC)
    except ValueError:
        raise AxdrError("clock value out of range") from None
    return local + timedelta(minutes=deviation)


def local_midnight(day: date) -> datetime:
    """The UTC instant a Dutch calendar day starts (readings are captured then)."""
    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM).astimezone(UTC)
