"""A simulated smart meter answering secured get-requests from its memory.

Pure computation: the caller passes the time. A request that fails to parse, verify or that
repeats a client counter is not answered (the meter logs it), as a real meter drops the
association; the head-end sees silence.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from meterkast.dlms import (
    AUTHENTICATED_ENCRYPTED,
    DlmsError,
    Suite0Cipher,
    TagMismatchError,
    decode_general_glo,
    xdlms,
)
from meterkast.dlms.axdr import Data, u32
from meterkast.dlms.clock import encode_clock
from meterkast.fleet.household import Floats, mix
from meterkast.fleet.memory import PROFILES, MeterState, ProfileSpec, Schedule, retained_captures
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import MeterEvent

_SERIAL = re.compile(r"^[EG]([A-Z]{3})(\d+)$")
_U32 = 1 << 32


def system_title_for(serial: str) -> bytes:
    """8 bytes: the 3-letter manufacturer id, then 5 bytes from the serial number.

    The top bit of the 5-byte number marks a gas (M-Bus) device, so an electricity meter and a
    gas meter that share a number never share a system title.
    """
    match = _SERIAL.match(serial)
    if match is not None:
        number = int(match[2]) % (1 << 39) | ((1 << 39) if serial[0] == "G" else 0)
        return match[1].encode("ascii") + number.to_bytes(5, "big")
    return b"MKS" + (mix(*serial.encode()) % (1 << 40)).to_bytes(5, "big")


def _age(state: MeterState, day: date) -> int:
    return (day - state.household.installed_on).days


def household_seed(serial: str) -> int:
    return mix(*serial.encode())


class SimulatedMeter:
    def __init__(self, state: MeterState) -> None:
        self.state = state
        self._cipher = Suite0Cipher(state.keys.encryption, state.keys.authentication)
        self._cumulative: Floats | None = None  # daily registers, reused within one answer

    def answer(self, frame: bytes, now: datetime) -> bytes | None:
        """The secured response to a secured request, or None when the meter stays silent."""
        state = self.state
        try:
            request = decode_general_glo(frame)
        except DlmsError:
            state.log(now, MeterEvent.MALFORMED_REQUEST)
            return None
        client = request.system_title.hex()
        if request.invocation_counter <= state.client_counters.get(client, -1):
            state.log(now, MeterEvent.REPLAY_ATTEMPT)
            return None
        try:
            if request.security_control != AUTHENTICATED_ENCRYPTED:
                raise TagMismatchError("only authenticated encryption is accepted")
            plaintext = self._cipher.open(request.system_title, request.content)[2]
        except DlmsError:
            state.log(now, MeterEvent.DECRYPTION_FAILURE)
            return None
        state.client_counters[client] = request.invocation_counter
        try:
            invoke_id, items = xdlms.decode_get_request(plaintext)
        except DlmsError:
            state.log(now, MeterEvent.MALFORMED_REQUEST)
            return None
        state.advance(now)
        self._cumulative = None
        results = [self._get(item) for item in items]
        response = xdlms.encode_get_response(invoke_id, results, with_list=len(items) > 1)
        return self.respond(response)

    def respond(self, plaintext: bytes) -> bytes:
        """Cipher a response with the next invocation counter."""
        self.state.invocation_counter += 1
        s = self.state
        return self._cipher.seal_general_glo(s.system_title, s.invocation_counter, plaintext)

    def _get(self, item: xdlms.GetItem) -> xdlms.Result:
        if item.attribute == xdlms.EQUIPMENT_ID:
            return self.state.serial.encode("ascii")
        spec = PROFILES.get(item.attribute)
        if spec is None:
            return xdlms.AccessResult.OBJECT_UNDEFINED
        if spec.gas and self.state.gas_serial is None:
            return xdlms.AccessResult.OBJECT_UNAVAILABLE
        return self.profile_entries(spec, item.from_moment, item.to_moment)

    def profile_entries(
        self, spec: ProfileSpec, start: datetime | None, end: datetime | None
    ) -> list[Data]:
        s = self.state
        if s.captured_until is None:
            return []
        moments = retained_captures(spec, s.installed, s.captured_until, start, end)
        if spec.schedule in (Schedule.DAY, Schedule.MONTH):
            days = [local_day(m) for m in moments]
            if days and (self._cumulative is None or len(self._cumulative) <= _age(s, max(days))):
                self._cumulative = s.household.cumulative(local_day(s.captured_until))
            values = s.household.registers_on(days, self._cumulative)
        else:
            values = s.household.registers_at(moments)
        entries: list[Data] = []
        for moment, row in zip(moments, values.tolist(), strict=True):
            clock = encode_clock(moment)
            if spec.gas:
                entries.append((clock, clock, u32(row[4] % _U32)))
            else:
                entries.append((clock, *(u32(v % _U32) for v in row[:4])))
        return entries
