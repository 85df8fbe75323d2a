"""A-XDR length fields: one byte up to 127, otherwise 0x8N followed by N big-endian bytes."""

from __future__ import annotations

from meterkast.dlms.errors import MalformedApduError

_MAX_LENGTH_BYTES = 4  # lengths beyond 4 GiB never occur on a meter link


def encode_length(length: int) -> bytes:
    if length < 0:
        raise MalformedApduError("a length cannot be negative")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > _MAX_LENGTH_BYTES:
        raise MalformedApduError("length too large for an A-XDR length field")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def decode_length(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a length at ``offset``; return it and the offset just after the length field."""
    if offset >= len(data):
        raise MalformedApduError("length field missing")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    size = first & 0x7F
    if size == 0 or size > _MAX_LENGTH_BYTES or offset + 1 + size > len(data):
        raise MalformedApduError("invalid A-XDR length field")
    value = int.from_bytes(data[offset + 1 : offset + 1 + size], "big")
    if value < 0x80 or (size > 1 and data[offset + 1] == 0):
        # Only the shortest form is valid; anything else would give one frame two encodings.
        raise MalformedApduError("non-minimal A-XDR length field")
    return value, offset + 1 + size
