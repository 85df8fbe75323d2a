"""A-XDR, the DLMS clock, get-request/response APDUs and suite-0 frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.fleet import apdu, cipher
from meterkast.fleet.axdr import (
    AxdrError,
    Data,
    Num,
    Tag,
    decode,
    decode_clock,
    decode_length,
    encode,
    encode_clock,
    encode_length,
)

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
TITLE = bytes.fromhex("4D4D4D0000BC614E")
GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")

_RANGES = {
    Tag.DOUBLE_LONG: (-(2**31), 2**31 - 1), Tag.DOUBLE_LONG_UNSIGNED: (0, 2**32 - 1),
    Tag.INTEGER: (-128, 127), Tag.LONG: (-(2**15), 2**15 - 1), Tag.UNSIGNED: (0, 255),
    Tag.LONG_UNSIGNED: (0, 2**16 - 1), Tag.LONG64: (-(2**63), 2**63 - 1),
    Tag.LONG64_UNSIGNED: (0, 2**64 - 1), Tag.ENUM: (0, 255),
}  # fmt: skip
numbers = st.sampled_from(list(_RANGES)).flatmap(
    lambda tag: st.integers(*_RANGES[tag]).map(lambda v: Num(tag, v))
)
scalars = st.one_of(
    st.none(), st.booleans(), st.binary(max_size=300), st.text("abcXYZ 019", max_size=20), numbers
)
data = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.lists(inner, max_size=5).map(tuple)),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(data)
def test_axdr_round_trip(value: Data) -> None:
    raw = encode(value)
    assert decode(raw) == (value, len(raw))


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=60)
def test_length_round_trip_and_short_form(n: int) -> None:
    raw = encode_length(n)
    assert decode_length(raw + b"\x00", 0) == (n, len(raw))
    assert (len(raw) == 1) == (n < 128)


def test_known_lengths_and_truncation() -> None:
    assert encode_length(127) == b"\x7f"
    assert encode_length(128) == b"\x81\x80"
    assert encode_length(300) == b"\x82\x01\x2c"
    with pytest.raises(AxdrError):
        decode(bytes((Tag.OCTET_STRING, 5, 1, 2)))
    with pytest.raises(AxdrError):
        decode(b"\x63")  # no such tag
    with pytest.raises(AxdrError):
        Num(Tag.UNSIGNED, 256)


@given(st.datetimes(datetime(2001, 1, 1), datetime(2090, 1, 1), timezones=st.just(UTC)))  # noqa: DTZ001 - hypothesis bounds are naive by API
@settings(max_examples=80)
def test_clock_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 10_000 * 10_000)
    assert decode_clock(encode_clock(moment)) == moment


def test_clock_carries_dutch_offset() -> None:
    winter = encode_clock(datetime(2026, 1, 5, 23, 0, tzinfo=UTC))
    assert winter[:8] == bytes((0x07, 0xEA, 1, 6, 2, 0, 0, 0))  # 6 Jan 00:00 local, Tuesday
    assert winter[9:12] == bytes((0xFF, 0xC4, 0x00))  # deviation -60, no DST
    summer = encode_clock(datetime(2026, 7, 1, 22, 0, tzinfo=UTC))
    assert summer[9:12] == bytes((0xFF, 0x88, 0x80))  # deviation -120, DST


def test_get_request_encodes_the_green_book_example() -> None:
    assert apdu.encode_get_request(1, [apdu.GetItem(apdu.CLOCK)]) == bytes.fromhex(
        "C001C1" "0008" "0000010000FF" "02" "00"
    )  # fmt: skip
    invoke_id, items = apdu.decode_get_request(GET_CLOCK)
    assert (invoke_id, items) == (0, [apdu.GetItem(apdu.CLOCK)])


def test_get_request_with_list_and_range_round_trip() -> None:
    start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    items = [
        apdu.GetItem(apdu.EQUIPMENT_ID),
        apdu.GetItem(apdu.E_DAILY, start, start + timedelta(days=9)),
        apdu.GetItem(apdu.GAS_DAILY, start, start),
    ]
    raw = apdu.encode_get_request(3, items)
    assert raw[:4] == bytes((0xC0, 0x03, 0xC3, 3))
    assert apdu.decode_get_request(raw) == (3, items)


def test_get_response_round_trip() -> None:
    results: list[apdu.Result] = [b"E123", [(b"x", Num(Tag.DOUBLE_LONG_UNSIGNED, 7))],
                                  apdu.AccessResult.OBJECT_UNDEFINED]  # fmt: skip
    raw = apdu.encode_get_response(5, results, with_list=True)
    assert apdu.decode_get_response(raw) == (5, results)
    single = apdu.encode_get_response(2, [b"E1"], with_list=False)
    assert single.hex() == "c401c2000902" + b"E1".hex()
    with pytest.raises(AxdrError):
        apdu.decode_get_response(raw + b"\x00")


def test_suite0_matches_the_green_book_vector() -> None:
    sealed = cipher.seal(AESGCM(EK), AK, TITLE, 0x01234567, GET_CLOCK)
    assert sealed.hex().upper() == (
        "411312FF935A47566827C467BC" "7D825C3BE4A77C3FCC056B6B"
    )  # fmt: skip
    frame = cipher.protect(AESGCM(EK), AK, TITLE, 0x01234567, GET_CLOCK)
    assert frame[:11] == bytes.fromhex("DB08") + TITLE + bytes((30,))
    assert frame[11:16] == bytes.fromhex("3001234567")
    parsed = cipher.parse_frame(frame)
    assert parsed.system_title == TITLE and parsed.invocation_counter == 0x01234567
    opened = cipher.open_sealed(
        AESGCM(EK), AK, TITLE, parsed.invocation_counter, parsed.ciphertext, parsed.tag
    )
    assert opened == GET_CLOCK


def test_suite0_refuses_tampering_and_long_frames_use_long_lengths() -> None:
    aead = AESGCM(EK)
    frame = bytearray(cipher.protect(aead, AK, TITLE, 9, GET_CLOCK))
    frame[-13] ^= 0x01  # a ciphertext bit
    p = cipher.parse_frame(bytes(frame))
    assert cipher.open_sealed(aead, AK, TITLE, 9, p.ciphertext, p.tag) is None
    big = cipher.protect(aead, AK, TITLE, 10, bytes(200))
    assert big[10:12] == bytes((0x81, 5 + 200 + 12))
    assert cipher.parse_frame(big).ciphertext.__len__() == 200
    with pytest.raises(AxdrError):
        cipher.parse_frame(big[:-1])
