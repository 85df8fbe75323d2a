"""Any change to a secured frame is refused: bit flips, truncation, extension, other keys."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.dlms import (
    AUTHENTICATED,
    AUTHENTICATED_ENCRYPTED,
    DlmsError,
    Suite0Cipher,
    decode_length,
    encode_length,
)

EK = bytes(range(16))
AK = bytes(range(16, 32))
TITLE = b"MKS\x00\x00\x00\x00\x07"
CIPHER = Suite0Cipher(EK, AK)
payloads = st.binary(min_size=0, max_size=400)


@settings(max_examples=150, deadline=None)
@given(payloads, st.integers(0, 2**32 - 1), st.data())
def test_any_bit_flip_is_rejected(plaintext: bytes, counter: int, data: st.DataObject) -> None:
    frame = CIPHER.seal_general_glo(TITLE, counter, plaintext)
    bit = data.draw(st.integers(0, len(frame) * 8 - 1))
    tampered = bytearray(frame)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DlmsError):
        CIPHER.open_general_glo(bytes(tampered))


@settings(max_examples=100, deadline=None)
@given(payloads, st.data(), st.sampled_from([AUTHENTICATED, AUTHENTICATED_ENCRYPTED]))
def test_truncation_and_extension_are_rejected(
    plaintext: bytes, data: st.DataObject, control: int
) -> None:
    frame = CIPHER.seal_general_glo(TITLE, 1, plaintext, control)
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(DlmsError):
        CIPHER.open_general_glo(frame[:cut])
    with pytest.raises(DlmsError):
        CIPHER.open_general_glo(frame + data.draw(st.binary(min_size=1, max_size=20)))


@settings(max_examples=100, deadline=None)
@given(payloads, st.integers(0, 2**32 - 1))
def test_round_trip(plaintext: bytes, counter: int) -> None:
    apdu, opened = CIPHER.open_general_glo(CIPHER.seal_general_glo(TITLE, counter, plaintext))
    assert opened == plaintext
    assert apdu.invocation_counter == counter
    assert apdu.system_title == TITLE


def test_another_key_is_rejected() -> None:
    frame = CIPHER.seal_general_glo(TITLE, 3, b"register values")
    with pytest.raises(DlmsError):
        Suite0Cipher(os.urandom(16), AK).open_general_glo(frame)
    with pytest.raises(DlmsError):
        Suite0Cipher(EK, os.urandom(16)).open_general_glo(frame)


@given(st.integers(0, 2**32 - 1))
def test_length_round_trip_and_shortest_form(length: int) -> None:
    encoded = encode_length(length)
    assert decode_length(encoded) == (length, len(encoded))
    assert len(encoded) == (
        1 if length < 128 else 2 if length < 256 else 1 + (length.bit_length() + 7) // 8
    )


def test_non_minimal_length_is_rejected() -> None:
    with pytest.raises(DlmsError):
        decode_length(bytes((0x81, 0x05)))
    with pytest.raises(DlmsError):
        decode_length(bytes((0x82, 0x00, 0xFF)))


@pytest.mark.parametrize("flip", [0x10, 0x20, 0x30, 0x40, 0x80, 0x01])
def test_security_control_downgrade_is_rejected(flip: int) -> None:
    frame = bytearray(CIPHER.seal_general_glo(TITLE, 3, b"register values"))
    frame[11] ^= flip  # the SC byte after tag, title length, title and one length byte
    with pytest.raises(DlmsError):
        CIPHER.open_general_glo(bytes(frame))
