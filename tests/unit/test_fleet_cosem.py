"""The meters cipher with dlms-cosem, the head-end with meterkast.dlms: both ends agree."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import pytest
from dlms_cosem import security
from hypothesis import given
from hypothesis import strategies as st

from meterkast.dlms import (
    AUTHENTICATED_ENCRYPTED,
    DlmsError,
    MalformedApduError,
    Suite0Cipher,
    TagMismatchError,
    decode_general_glo,
    xdlms,
)
from meterkast.fleet.cosem import CosemCipher
from meterkast.fleet.household import Household
from meterkast.fleet.memory import MeterKeys, MeterState
from meterkast.fleet.meter import SimulatedMeter, system_title_for
from meterkast.kernel.codes import ProfileCategory

EK, AK = os.urandom(16), os.urandom(16)
TITLE = bytes.fromhex("4D4B530000000042")


@given(st.binary(max_size=600), st.integers(0, 2**32 - 1))
def test_what_a_meter_seals_the_head_end_opens(plaintext: bytes, counter: int) -> None:
    frame = CosemCipher(EK, AK).seal_general_glo(TITLE, counter, plaintext)
    apdu, opened = Suite0Cipher(EK, AK).open_general_glo(frame)
    assert (apdu.system_title, apdu.invocation_counter, opened) == (TITLE, counter, plaintext)


@given(st.binary(max_size=600), st.integers(0, 2**32 - 1))
def test_what_the_head_end_seals_a_meter_opens(plaintext: bytes, counter: int) -> None:
    frame = Suite0Cipher(EK, AK).seal_general_glo(TITLE, counter, plaintext)
    apdu = decode_general_glo(frame)
    opened = CosemCipher(EK, AK).open(apdu.system_title, apdu.content)
    assert opened == (AUTHENTICATED_ENCRYPTED, counter, plaintext)


@given(st.binary(min_size=1, max_size=200), st.data())
def test_a_meter_refuses_any_flipped_bit(plaintext: bytes, data: st.DataObject) -> None:
    content = decode_general_glo(Suite0Cipher(EK, AK).seal_general_glo(TITLE, 5, plaintext)).content
    position = data.draw(st.integers(0, len(content) - 1))
    bit = data.draw(st.integers(0, 7))
    spoiled = bytearray(content)
    spoiled[position] ^= 1 << bit
    with pytest.raises((TagMismatchError, MalformedApduError)):
        CosemCipher(EK, AK).open(TITLE, bytes(spoiled))


def test_a_meter_refuses_a_wrong_key_and_a_short_frame() -> None:
    content = decode_general_glo(Suite0Cipher(EK, AK).seal_general_glo(TITLE, 5, b"get")).content
    with pytest.raises(TagMismatchError):
        CosemCipher(os.urandom(16), AK).open(TITLE, content)
    with pytest.raises(TagMismatchError):
        CosemCipher(EK, os.urandom(16)).open(TITLE, content)
    with pytest.raises(MalformedApduError):
        CosemCipher(EK, AK).open(TITLE, content[:16])
    with pytest.raises(DlmsError):
        CosemCipher(EK[:8], AK)


def test_the_simulated_meter_ciphers_through_dlms_cosem(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_encrypt, real_decrypt = security.encrypt, security.decrypt

    def encrypt(*args: Any) -> bytes:
        calls.append("encrypt")
        return bytes(real_encrypt(*args))

    def decrypt(*args: Any) -> bytes:
        calls.append("decrypt")
        return bytes(real_decrypt(*args))

    monkeypatch.setattr(security, "encrypt", encrypt)
    monkeypatch.setattr(security, "decrypt", decrypt)
    serial = "EKFM0000000042"
    keys = MeterKeys(master=bytes(16), authentication=AK, encryption=EK)
    household = Household.for_connection(42, date(2024, 1, 1), ProfileCategory.E1A)
    state = MeterState(serial, "871687140000000010", system_title_for(serial), household, keys)
    meter = SimulatedMeter(state)
    head_end = Suite0Cipher(EK, AK)
    request = xdlms.encode_get_request(1, [xdlms.GetItem(xdlms.EQUIPMENT_ID)])
    answer = meter.answer(head_end.seal_general_glo(TITLE, 1, request), datetime.now(UTC))
    assert answer is not None
    _, plaintext = head_end.open_general_glo(answer)
    assert xdlms.decode_get_response(plaintext) == (1, [serial.encode()])
    assert calls == ["decrypt", "encrypt"]  # the request opened, the answer sealed
    assert EK.hex() not in repr(meter._cipher) and "CosemCipher" in repr(meter._cipher)
