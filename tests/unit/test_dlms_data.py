"""A-XDR data, the DLMS clock and get-request/response APDUs (``meterkast.dlms``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dlms_cosem.dlms_data import DataArray, DataStructure, DlmsDataParser
from dlms_cosem.protocol.xdlms.get import GetRequestNormal, GetRequestWithList, GetResponseNormal
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.dlms import xdlms
from meterkast.dlms.axdr import Data, Num, Tag, decode, decode_length, encode, encode_length
from meterkast.dlms.clock import decode_clock, encode_clock
from meterkast.dlms.errors import AxdrError

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
    assert xdlms.encode_get_request(1, [xdlms.GetItem(xdlms.CLOCK)]) == bytes.fromhex(
        "C001C1" "0008" "0000010000FF" "02" "00"
    )  # fmt: skip
    invoke_id, items = xdlms.decode_get_request(GET_CLOCK)
    assert (invoke_id, items) == (0, [xdlms.GetItem(xdlms.CLOCK)])


def test_get_request_with_list_and_range_round_trip() -> None:
    start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    items = [
        xdlms.GetItem(xdlms.EQUIPMENT_ID),
        xdlms.GetItem(xdlms.E_DAILY, start, start + timedelta(days=9)),
        xdlms.GetItem(xdlms.GAS_DAILY, start, start),
    ]
    raw = xdlms.encode_get_request(3, items)
    assert raw[:4] == bytes((0xC0, 0x03, 0xC3, 3))
    assert xdlms.decode_get_request(raw) == (3, items)


def test_get_response_round_trip() -> None:
    results: list[xdlms.Result] = [b"E123", [(b"x", Num(Tag.DOUBLE_LONG_UNSIGNED, 7))],
                                  xdlms.AccessResult.OBJECT_UNDEFINED]  # fmt: skip
    raw = xdlms.encode_get_response(5, results, with_list=True)
    assert xdlms.decode_get_response(raw) == (5, results)
    single = xdlms.encode_get_response(2, [b"E1"], with_list=False)
    assert single.hex() == "c401c2000902" + b"E1".hex()
    with pytest.raises(AxdrError):
        xdlms.decode_get_response(raw + b"\x00")


def test_lengths_refuse_non_minimal_forms() -> None:
    with pytest.raises(AxdrError):
        decode_length(bytes((0x81, 0x05)), 0)  # 5 fits the short form
    with pytest.raises(AxdrError):
        decode_length(bytes((0x82, 0x00, 0x90)), 0)


@settings(max_examples=100, deadline=None)
@given(data)
def test_dlms_cosem_parses_our_data(value: Data) -> None:
    parsed = DlmsDataParser().parse(encode(value))
    assert len(parsed) == 1
    assert _plain(parsed[0]) == _ours(value)


def _plain(item: object) -> object:
    value = getattr(item, "value", None)
    if isinstance(item, (DataArray, DataStructure)):
        return [_plain(v) for v in item.value]
    return bytes(value) if isinstance(value, bytearray) else value


def _ours(value: Data) -> object:
    if isinstance(value, (list, tuple)):
        return [_ours(v) for v in value]
    return value.value if isinstance(value, Num) else value


def test_dlms_cosem_reads_our_get_requests() -> None:
    start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    single = xdlms.encode_get_request(1, [xdlms.GetItem(xdlms.EQUIPMENT_ID)])
    theirs = GetRequestNormal.from_bytes(single)
    assert theirs.cosem_attribute.interface.value == 1
    assert theirs.cosem_attribute.instance.to_bytes() == xdlms.EQUIPMENT_ID.logical_name
    ranged = xdlms.encode_get_request(2, [xdlms.GetItem(xdlms.E_DAILY, start, start)])
    descriptor = GetRequestNormal.from_bytes(ranged).access_selection
    assert descriptor is not None
    assert descriptor.from_value == start and descriptor.to_value == start
    listed = xdlms.encode_get_request(
        3, [xdlms.GetItem(xdlms.EQUIPMENT_ID), xdlms.GetItem(xdlms.CLOCK)]
    )
    assert len(GetRequestWithList.from_bytes(listed).cosem_attributes_with_selection) == 2


def test_dlms_cosem_reads_our_get_responses() -> None:
    # (Its GetResponseNormal.to_bytes fails on its own invoke-id byte, so only this direction.)
    raw = xdlms.encode_get_response(1, [b"E123"], with_list=False)
    theirs = GetResponseNormal.from_bytes(raw)
    assert theirs.invoke_id_and_priority.invoke_id == 1
    assert bytes(theirs.data) == bytes.fromhex("090445313233")
