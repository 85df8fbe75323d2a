"""A-XDR: length fields and the COSEM ``Data`` values the meter link carries.

Lengths are one byte up to 127, otherwise 0x8N followed by N big-endian bytes (shortest form
only). Python values map onto Data choices as follows: ``None`` null-data, ``bool`` boolean,
``bytes`` octet-string, ``str`` visible-string, ``list`` array, ``tuple`` structure, and
:class:`Num` every integer type (its tag says which).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from meterkast.dlms.errors import AxdrError

_MAX_LENGTH_BYTES = 4  # lengths beyond 4 GiB never occur on a meter link


def encode_length(length: int) -> bytes:
    if length < 0:
        raise AxdrError("a length cannot be negative")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > _MAX_LENGTH_BYTES:
        raise AxdrError("length too large for an A-XDR length field")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def decode_length(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a length at ``offset``; return it and the offset just after the length field."""
    if offset >= len(data):
        raise AxdrError("length field missing")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    size = first & 0x7F
    if size == 0 or size > _MAX_LENGTH_BYTES or offset + 1 + size > len(data):
        raise AxdrError("invalid A-XDR length field")
    value = int.from_bytes(data[offset + 1 : offset + 1 + size], "big")
    if value < 0x80 or (size > 1 and data[offset + 1] == 0):
        # Only the shortest form is valid; anything else would give one frame two encodings.
        raise AxdrError("non-minimal A-XDR length field")
    return value, offset + 1 + size


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


_INT_STRUCTS = {
    tag: struct.Struct(fmt)
    for tag, fmt in (
        (Tag.DOUBLE_LONG, ">i"),
        (Tag.DOUBLE_LONG_UNSIGNED, ">I"),
        (Tag.INTEGER, ">b"),
        (Tag.LONG, ">h"),
        (Tag.UNSIGNED, ">B"),
        (Tag.LONG_UNSIGNED, ">H"),
        (Tag.LONG64, ">q"),
        (Tag.LONG64_UNSIGNED, ">Q"),
        (Tag.ENUM, ">B"),
    )
}


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


def u32(value: int) -> Num:
    return Num(Tag.DOUBLE_LONG_UNSIGNED, value)


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
