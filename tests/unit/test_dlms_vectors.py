"""Suite 0 against the published vectors (DLMS UA Green Book, RFC 3394 §4.1)."""

from __future__ import annotations

import pytest

from meterkast.dlms import (
    AUTHENTICATED,
    AUTHENTICATED_ENCRYPTED,
    ENCRYPTED,
    GLO_GET_REQUEST,
    GLO_INITIATE_REQUEST,
    DlmsError,
    Suite0Cipher,
    decode_service_glo,
    encode_service_glo,
    hls5_gmac,
    unwrap_key,
    wrap_key,
)

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
TITLE = bytes.fromhex("4D4D4D0000BC614E")
IC = 0x01234567
GET = bytes.fromhex("C0010000080000010000FF0200")
INITIATE = bytes.fromhex("01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0")

GET_VECTORS = [
    (AUTHENTICATED_ENCRYPTED, "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"),
    (ENCRYPTED, "C8122001234567411312FF935A47566827C467BC"),
    (AUTHENTICATED, "C81E1001234567C0010000080000010000FF020006725D910F9221D263877516"),
]


@pytest.mark.parametrize(("control", "expected"), GET_VECTORS)
def test_glo_get_request_matches_the_green_book(control: int, expected: str) -> None:
    cipher = Suite0Cipher(EK, AK)
    frame = encode_service_glo(GLO_GET_REQUEST, cipher.seal(control, TITLE, IC, GET))
    assert frame == bytes.fromhex(expected)


@pytest.mark.parametrize(("control", "expected"), GET_VECTORS)
def test_glo_get_request_opens_to_the_plaintext(control: int, expected: str) -> None:
    tag, content = decode_service_glo(bytes.fromhex(expected))
    assert tag == GLO_GET_REQUEST
    opened = Suite0Cipher(EK, AK).open(TITLE, content, allow_unauthenticated=True)
    assert opened == (control, IC, GET)


def test_glo_initiate_request_matches_the_green_book() -> None:
    expected = bytes.fromhex(
        "21303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE"
        "6841DB204D39EE6FDB8E356855"
    )
    content = Suite0Cipher(EK, AK).seal(AUTHENTICATED_ENCRYPTED, TITLE, IC, INITIATE)
    assert encode_service_glo(GLO_INITIATE_REQUEST, content) == expected


def test_hls5_gmac_matches_the_green_book() -> None:
    tag = hls5_gmac(EK, AK, bytes.fromhex("4D4D4D0000000001"), 1, bytes.fromhex("503677524A323146"))
    assert tag == bytes.fromhex("1A52FE7DD3E72748973C1E28")


def test_rfc3394_section_4_1() -> None:
    kek = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
    key = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    wrapped = bytes.fromhex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
    assert wrap_key(kek, key) == wrapped
    assert unwrap_key(kek, wrapped) == key


def test_unwrap_with_the_wrong_kek_fails_without_showing_bytes() -> None:
    wrapped = wrap_key(EK, AK)
    with pytest.raises(DlmsError) as caught:
        unwrap_key(AK, wrapped)
    assert AK.hex() not in str(caught.value).lower()
    assert EK.hex() not in str(caught.value).lower()


def test_cipher_repr_hides_keys() -> None:
    text = repr(Suite0Cipher(EK, AK))
    assert EK.hex() not in text.lower()
    assert AK.hex() not in text.lower()
