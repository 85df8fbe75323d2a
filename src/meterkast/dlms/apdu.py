"""Ciphered APDU framing: general-glo-ciphering (0xDB) and service-specific glo APDUs.

general-glo-ciphering = 0xDB ‖ len(ST) ‖ ST ‖ len(content) ‖ content, with content
``SC ‖ IC ‖ body ‖ tag``. Lengths are A-XDR (see :mod:`meterkast.dlms.axdr`); we encode them
ourselves because dlms-cosem writes a one-byte length even above 127.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterkast.dlms.axdr import decode_length, encode_length
from meterkast.dlms.errors import MalformedApduError

GENERAL_GLO_CIPHERING = 0xDB
GLO_GET_REQUEST = 0xC8
GLO_INITIATE_REQUEST = 0x21
_TITLE = 8
_MIN_CONTENT = 5  # SC + invocation counter


@dataclass(frozen=True, slots=True)
class GeneralGloCiphering:
    system_title: bytes
    content: bytes  # SC ‖ IC ‖ body ‖ tag

    @property
    def security_control(self) -> int:
        return self.content[0]

    @property
    def invocation_counter(self) -> int:
        return int.from_bytes(self.content[1:5], "big")

    def __repr__(self) -> str:
        return (
            f"GeneralGloCiphering(system_title={self.system_title.hex()}, "
            f"ic={self.invocation_counter}, {len(self.content)} bytes)"
        )


def encode_general_glo(system_title: bytes, content: bytes) -> bytes:
    if len(system_title) != _TITLE:
        raise MalformedApduError("a system title is 8 bytes")
    if len(content) < _MIN_CONTENT:
        raise MalformedApduError("ciphered content shorter than its header")
    return (
        bytes((GENERAL_GLO_CIPHERING, _TITLE))
        + system_title
        + encode_length(len(content))
        + content
    )


def decode_general_glo(frame: bytes) -> GeneralGloCiphering:
    if len(frame) < 2 or frame[0] != GENERAL_GLO_CIPHERING:
        raise MalformedApduError("not a general-glo-ciphering APDU")
    if frame[1] != _TITLE or len(frame) < 2 + _TITLE:
        raise MalformedApduError("system title missing or not 8 bytes")
    length, start = decode_length(frame, 2 + _TITLE)
    if length < _MIN_CONTENT or start + length != len(frame):
        raise MalformedApduError("ciphered content length does not match the frame")
    return GeneralGloCiphering(bytes(frame[2 : 2 + _TITLE]), bytes(frame[start:]))


def encode_service_glo(tag: int, content: bytes) -> bytes:
    """A service-specific glo APDU (e.g. glo-get-request 0xC8): tag ‖ len ‖ content."""
    if not 0 <= tag <= 0xFF:
        raise MalformedApduError("an APDU tag is one byte")
    return bytes((tag,)) + encode_length(len(content)) + content


def decode_service_glo(frame: bytes) -> tuple[int, bytes]:
    if not frame:
        raise MalformedApduError("empty APDU")
    length, start = decode_length(frame, 1)
    if length < _MIN_CONTENT or start + length != len(frame):
        raise MalformedApduError("ciphered content length does not match the frame")
    return frame[0], bytes(frame[start:])
