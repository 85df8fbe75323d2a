"""A head-end session with one meter: suite 0 over general-glo-ciphering, keys kept private.

``unprotect`` is the head-end's hot path (60,000 frames/s target), so it parses the APDU
inline, reuses one ``AESGCM`` object and touches no database: the last counter seen lives in a
shared :class:`CounterState` that the server flushes in batches.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from meterkast.dlms.apdu import GENERAL_GLO_CIPHERING, encode_general_glo
from meterkast.dlms.axdr import decode_length
from meterkast.dlms.errors import MalformedApduError
from meterkast.dlms.suite0 import AUTHENTICATED_ENCRYPTED, TAG_LENGTH
from meterkast.kernel.codes import FrameRejection
from meterkast.keys.api import FrameRejectedError

_SC = bytes((AUTHENTICATED_ENCRYPTED,))
_MAX_COUNTER = 0xFFFF_FFFF
_same = hmac.compare_digest
_TAG = slice(-16, -16 + TAG_LENGTH)  # DLMS keeps the first 12 of GCM's 16 tag bytes
# DB, title length, 8-byte title, 1-byte length, SC, 4-byte counter, 12-byte tag.
_MIN_FRAME = 2 + 8 + 1 + 5 + TAG_LENGTH


class CounterState:
    """Invocation counters of one meter, shared by all sessions with it in this process."""

    __slots__ = ("rx", "tx_limit", "tx_next")

    def __init__(self, rx: int, tx_reserved: int) -> None:
        self.rx = rx  # highest counter accepted from the meter
        self.tx_next = tx_reserved  # our next request counter
        self.tx_limit = tx_reserved  # counters below this are reserved in the database


class Suite0Session:
    """Implements :class:`meterkast.keys.api.MeterSession`; requires SC 0x30 both ways."""

    __slots__ = (
        "_aad",
        "_dirty",
        "_gcm",
        "_meter_title",
        "_reserve",
        "_state",
        "client_system_title",
        "meter_id",
    )

    def __init__(
        self,
        meter_id: str,
        client_system_title: bytes,
        meter_system_title: bytes,
        encryption_key: bytes,
        authentication_key: bytes,
        state: CounterState,
        dirty: set[str],
        reserve: Callable[[str, CounterState], None],
    ) -> None:
        self.meter_id = meter_id
        self.client_system_title = client_system_title
        self._meter_title = meter_system_title
        self._gcm = AESGCM(encryption_key)
        self._aad = _SC + authentication_key  # gas meters have no AK: AAD is SC alone
        self._state = state
        self._dirty = dirty
        self._reserve = reserve

    def __repr__(self) -> str:
        return f"Suite0Session(meter_id={self.meter_id!r})"

    def protect(self, plaintext_apdu: bytes) -> bytes:
        state = self._state
        if state.tx_next >= state.tx_limit:
            self._reserve(self.meter_id, state)
        counter = state.tx_next
        if counter > _MAX_COUNTER:
            raise MalformedApduError("request invocation counter exhausted: renew the keys")
        state.tx_next = counter + 1
        invocation = counter.to_bytes(4, "big")
        sealed = self._gcm.encrypt(self.client_system_title + invocation, plaintext_apdu, self._aad)
        content = _SC + invocation + sealed[:-16] + sealed[-16 : -16 + TAG_LENGTH]
        return encode_general_glo(self.client_system_title, content)

    def unprotect(self, frame: bytes) -> bytes:
        if len(frame) < _MIN_FRAME or frame[0] != GENERAL_GLO_CIPHERING or frame[1] != 8:
            raise FrameRejectedError(self.meter_id, FrameRejection.MALFORMED)
        title = frame[2:10]
        if title != self._meter_title:
            raise FrameRejectedError(self.meter_id, FrameRejection.WRONG_SYSTEM_TITLE)
        first = frame[10]
        if first < 0x80:  # the two common A-XDR length forms inline, the rest by the parser
            length, start = first, 11
        elif first == 0x81 and frame[11] >= 0x80:
            length, start = frame[11], 12
        else:
            try:
                length, start = decode_length(frame, 10)
            except MalformedApduError:
                raise FrameRejectedError(self.meter_id, FrameRejection.MALFORMED) from None
        if start + length != len(frame) or length < 5 + TAG_LENGTH or frame[start] != 0x30:
            # Only authenticated encryption is accepted: 0x10/0x20 would be a downgrade.
            raise FrameRejectedError(self.meter_id, FrameRejection.MALFORMED)
        invocation = frame[start + 1 : start + 5]
        counter = int.from_bytes(invocation, "big")
        state = self._state
        if counter <= state.rx:
            raise FrameRejectedError(self.meter_id, FrameRejection.REPLAY)
        iv = title + invocation
        body = frame[start + 5 : -TAG_LENGTH]
        # AESGCM.decrypt wants a 16-byte tag; see meterkast.dlms.suite0 for this technique.
        encrypt, aad = self._gcm.encrypt, self._aad
        plaintext = encrypt(iv, body, aad)[:-16]
        if not _same(encrypt(iv, plaintext, aad)[_TAG], frame[-TAG_LENGTH:]):
            raise FrameRejectedError(self.meter_id, FrameRejection.BAD_TAG)
        state.rx = counter
        self._dirty.add(self.meter_id)
        return plaintext
