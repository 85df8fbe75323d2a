"""The head-end session alone (no database): tamper, replay and downgrade properties."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.dlms import AUTHENTICATED, ENCRYPTED, Suite0Cipher
from meterkast.kernel.codes import FrameRejection
from meterkast.keys.api import FrameRejectedError
from meterkast.keys.session import CounterState, Suite0Session

EK, AK = os.urandom(16), os.urandom(16)
METER = b"MTR\x00\x00\x00\x00\x01"
CLIENT = b"MKS\x00\x00\x00\x00\x01"
CIPHER = Suite0Cipher(EK, AK)


def session(reservations: list[int] | None = None) -> Suite0Session:
    def reserve(_meter: str, state: CounterState) -> None:
        state.tx_limit += 4
        if reservations is not None:
            reservations.append(state.tx_limit)

    return Suite0Session("M1", CLIENT, METER, EK, AK, CounterState(0, 0), set(), reserve)


@settings(max_examples=120, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 2**32 - 1), st.data())
def test_any_bit_flip_or_cut_is_rejected(payload: bytes, counter: int, data: st.DataObject) -> None:
    frame = CIPHER.seal_general_glo(METER, counter, payload)
    bit = data.draw(st.integers(0, len(frame) * 8 - 1))
    flipped = bytearray(frame)
    flipped[bit // 8] ^= 1 << (bit % 8)
    cut = frame[: data.draw(st.integers(0, len(frame) - 1))]
    for bad in (bytes(flipped), cut):
        with pytest.raises(FrameRejectedError):
            session().unprotect(bad)
    assert session().unprotect(frame) == payload


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=1, max_size=30))
def test_only_strictly_increasing_counters_pass(counters: list[int]) -> None:
    s = session()
    highest = 0
    for counter in counters:
        frame = CIPHER.seal_general_glo(METER, counter, b"r")
        if counter > highest:
            assert s.unprotect(frame) == b"r"
            highest = counter
        else:
            with pytest.raises(FrameRejectedError) as caught:
                s.unprotect(frame)
            assert caught.value.reason is FrameRejection.REPLAY


@pytest.mark.parametrize("control", [AUTHENTICATED, ENCRYPTED])
def test_weaker_protection_is_refused(control: int) -> None:
    frame = CIPHER.seal_general_glo(METER, 1, b"r", control)
    with pytest.raises(FrameRejectedError) as caught:
        session().unprotect(frame)
    assert caught.value.reason is FrameRejection.MALFORMED


def test_requests_reserve_counters_in_blocks_and_verify_at_the_meter() -> None:
    reservations: list[int] = []
    s = session(reservations)
    counters = []
    for _ in range(10):
        apdu, plaintext = CIPHER.open_general_glo(s.protect(b"get"))
        assert plaintext == b"get" and apdu.system_title == CLIENT
        counters.append(apdu.invocation_counter)
    assert counters == list(range(10))
    assert reservations == [4, 8, 12]


def test_session_shows_no_key() -> None:
    s = session()
    text = (
        repr(s) + repr(CIPHER) + str([getattr(s, a) for a in ("meter_id", "client_system_title")])
    )
    assert EK.hex() not in text and AK.hex() not in text
    assert EK not in text.encode("latin-1") and AK not in text.encode("latin-1")
