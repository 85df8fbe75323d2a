"""Security suite 0 as general-glo-ciphering frames (the meter side of the secure channel).

Frame: ``DB | 08 | system title | A-XDR length | SC 0x30 | IC (4) | ciphertext | tag (12)``;
IV = system title ‖ IC; AAD = SC ‖ AK. Kept behind two small functions so the fleet can switch
to ``meterkast.dlms`` once it lands. ``cryptography``'s AESGCM only verifies full 16-byte tags,
so a truncated tag is checked by recovering the plaintext (GCM encryption is a CTR stream, its
own inverse) and recomputing the tag: two AEAD calls on prebuilt objects, no per-message setup.
"""

from __future__ import annotations

import hmac
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from meterkast.fleet.axdr import AxdrError, decode_length, encode_length

GENERAL_GLO_CIPHERING = 0xDB
SECURITY_CONTROL = 0x30  # suite 0, authenticated and encrypted
TAG_SIZE = 12
SYSTEM_TITLE_SIZE = 8
MAX_COUNTER = 0xFFFFFFFF


class GloFrame(NamedTuple):
    """The parts of a general-glo-ciphering frame, before verification."""

    system_title: bytes
    security_control: int
    invocation_counter: int
    ciphertext: bytes
    tag: bytes


def parse_frame(frame: bytes) -> GloFrame:
    """Split a frame into its fields; raise AxdrError when it is not well formed."""
    if len(frame) < 2 + SYSTEM_TITLE_SIZE + 1 or frame[0] != GENERAL_GLO_CIPHERING:
        raise AxdrError("not a general-glo-ciphering frame")
    if frame[1] != SYSTEM_TITLE_SIZE:
        raise AxdrError("system title must be 8 bytes")
    title = bytes(frame[2:10])
    length, pos = decode_length(frame, 10)
    if length < 5 + TAG_SIZE or pos + length != len(frame):
        raise AxdrError("frame length does not match its content")
    return GloFrame(
        system_title=title,
        security_control=frame[pos],
        invocation_counter=int.from_bytes(frame[pos + 1 : pos + 5], "big"),
        ciphertext=bytes(frame[pos + 5 : len(frame) - TAG_SIZE]),
        tag=bytes(frame[len(frame) - TAG_SIZE :]),
    )


def build_frame(system_title: bytes, counter: int, sealed: bytes) -> bytes:
    """Frame a sealed payload (ciphertext ‖ tag) from :func:`seal`."""
    body_length = 5 + len(sealed)
    return (
        bytes((GENERAL_GLO_CIPHERING, SYSTEM_TITLE_SIZE))
        + system_title
        + encode_length(body_length)
        + bytes((SECURITY_CONTROL,))
        + counter.to_bytes(4, "big")
        + sealed
    )


def seal(
    aead: AESGCM, authentication_key: bytes, system_title: bytes, counter: int, plaintext: bytes
) -> bytes:
    """Ciphertext ‖ 12-byte tag of ``plaintext`` under suite 0."""
    if not 0 <= counter <= MAX_COUNTER:
        raise ValueError("invocation counter out of range")
    iv = system_title + counter.to_bytes(4, "big")
    out = aead.encrypt(iv, plaintext, bytes((SECURITY_CONTROL,)) + authentication_key)
    return out[:-4]  # drop the last 4 of the 16 tag bytes


def open_sealed(
    aead: AESGCM, authentication_key: bytes, system_title: bytes, counter: int,
    ciphertext: bytes, tag: bytes,
) -> bytes | None:  # fmt: skip
    """The plaintext, or None when the tag does not verify."""
    iv = system_title + counter.to_bytes(4, "big")
    aad = bytes((SECURITY_CONTROL,)) + authentication_key
    plaintext = aead.encrypt(iv, ciphertext, aad)[: len(ciphertext)]
    expected = aead.encrypt(iv, plaintext, aad)[len(ciphertext) : len(ciphertext) + TAG_SIZE]
    return plaintext if hmac.compare_digest(expected, tag) else None


def protect(
    aead: AESGCM, authentication_key: bytes, system_title: bytes, counter: int, plaintext: bytes
) -> bytes:
    """A whole general-glo-ciphering frame around ``plaintext``."""
    sealed = seal(aead, authentication_key, system_title, counter, plaintext)
    return build_frame(system_title, counter, sealed)
