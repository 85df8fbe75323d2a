"""Our frames against dlms-cosem's independent implementation, both ways, short and long."""

from __future__ import annotations

import os

import pytest
from dlms_cosem import security
from dlms_cosem.protocol.xdlms.general_global_cipher import GeneralGlobalCipher

from meterkast.dlms import (
    AUTHENTICATED_ENCRYPTED,
    Suite0Cipher,
    decode_general_glo,
    encode_general_glo,
    encode_length,
)

EK = os.urandom(16)
AK = os.urandom(16)
TITLE = bytes.fromhex("4D4B530000000042")
SC = security.SecurityControlField(security_suite=0, authenticated=True, encrypted=True)
SIZES = [0, 1, 100, 115, 116, 127, 128, 200, 243, 244, 255, 256, 300, 1000, 70_000]


@pytest.mark.parametrize("size", SIZES)
def test_dlms_cosem_decrypts_our_general_glo_frames(size: int) -> None:
    plaintext = os.urandom(size)
    frame = Suite0Cipher(EK, AK).seal_general_glo(TITLE, 77, plaintext)
    parsed = GeneralGlobalCipher.from_bytes(frame)
    assert parsed.system_title == TITLE
    assert parsed.invocation_counter == 77
    assert security.decrypt(SC, TITLE, 77, EK, parsed.ciphered_text, AK) == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_dlms_cosem_ciphertext(size: int) -> None:
    plaintext = os.urandom(size)
    body = security.encrypt(SC, TITLE, 9, EK, plaintext, AK)
    content = bytes((AUTHENTICATED_ENCRYPTED,)) + (9).to_bytes(4, "big") + body
    frame = encode_general_glo(TITLE, content)
    apdu, opened = Suite0Cipher(EK, AK).open_general_glo(frame)
    assert opened == plaintext
    assert apdu.invocation_counter == 9


@pytest.mark.parametrize("size", [128, 255, 256, 65_535, 65_536])
def test_long_lengths_use_the_a_xdr_long_form(size: int) -> None:
    content = bytes((AUTHENTICATED_ENCRYPTED,)) + bytes(size - 1)
    frame = encode_general_glo(TITLE, content)
    width = 2 if size < 256 else 3 if size < 65_536 else 4
    assert frame[10 : 10 + width] == encode_length(size)
    assert frame[10] == 0x80 | (width - 1)
    assert decode_general_glo(frame).content == content


def test_hls5_gmac_agrees_with_dlms_cosem() -> None:
    from meterkast.dlms import hls5_gmac

    challenge = os.urandom(16)
    auth_only = security.SecurityControlField(security_suite=0, authenticated=True)
    theirs = security.gmac(auth_only, TITLE, 5, EK, AK, challenge)
    assert hls5_gmac(EK, AK, TITLE, 5, challenge) == theirs
