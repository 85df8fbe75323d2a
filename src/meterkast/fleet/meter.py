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
    unwrap_key,
    xdlms,
)
from meterkast.dlms.axdr import Data, u32
from meterkast.dlms.clock import encode_clock
from meterkast.fleet.cosem import CosemCipher, MeterCipher
from meterkast.fleet.household import Floats, mix
from meterkast.fleet.memory import PROFILES, MeterState, ProfileSpec, Schedule, retained_captures
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import KeyType, MeterEvent

_SERIAL = re.compile(r"^[EG]([A-Z]{3})(\d+)$")
_U32 = 1 << 32
_KEY_SLOTS = {
    (False, KeyType.MASTER): "master",
    (False, KeyType.AUTHENTICATION): "authentication",
    (False, KeyType.ENCRYPTION): "encryption",
    (True, KeyType.MASTER): "gas_master",
    (True, KeyType.ENCRYPTION): "gas_encryption",
}


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
    """An E meter and, on M-Bus channel 1, its gas meter: two secure channels, one memory."""

    def __init__(self, state: MeterState) -> None:
        self.state = state
        self.rekey()
        self._cumulative: Floats | None = None  # daily registers, reused within one answer

    def rekey(self) -> None:
        """Build the ciphers from the keys the meter holds now (after a key transfer)."""
        keys = self.state.keys
        self._cipher: MeterCipher = CosemCipher(keys.encryption, keys.authentication)
        self._gas_cipher: MeterCipher | None = (
            Suite0Cipher(keys.gas_encryption) if keys.gas_encryption else None
        )

    def _request(
        self, cipher: MeterCipher, clients: dict[str, int], frame: bytes, now: datetime
    ) -> tuple[int, list[xdlms.GetItem]] | None:
        """A get-request's invoke id and items, or None (logged) when the frame does not parse
        or verify, is a replay, or holds no get-request."""
        state = self.state
        try:
            request = decode_general_glo(frame)
        except DlmsError:
            state.log(now, MeterEvent.MALFORMED_REQUEST)
            return None
        client = request.system_title.hex()
        if request.invocation_counter <= clients.get(client, -1):
            state.log(now, MeterEvent.REPLAY_ATTEMPT)
            return None
        try:
            if request.security_control != AUTHENTICATED_ENCRYPTED:
                raise TagMismatchError("only authenticated encryption is accepted")
            plaintext = cipher.open(request.system_title, request.content)[2]
        except DlmsError:
            state.log(now, MeterEvent.DECRYPTION_FAILURE)
            return None
        clients[client] = request.invocation_counter
        try:
            return xdlms.decode_get_request(plaintext)
        except DlmsError:
            state.log(now, MeterEvent.MALFORMED_REQUEST)
            return None

    def answer(self, frame: bytes, now: datetime) -> bytes | None:
        """The secured response to a secured request, or None when the meter stays silent."""
        state = self.state
        request = self._request(self._cipher, state.client_counters, frame, now)
        if request is None:
            return None
        invoke_id, items = request
        state.advance(now)
        self._cumulative = None
        results = [self._get(item) for item in items]
        response = xdlms.encode_get_response(invoke_id, results, with_list=len(items) > 1)
        return self.respond(response)

    def answer_gas(self, frame: bytes, now: datetime) -> bytes | None:
        """The gas meter's own answer (its keys, title and counters): its identifier only;
        its values reach the head-end through the E meter's profiles."""
        state = self.state
        if self._gas_cipher is None or state.gas_serial is None:
            return None
        request = self._request(self._gas_cipher, state.gas_client_counters, frame, now)
        if request is None:
            return None
        invoke_id, items = request
        identity = state.gas_serial.encode("ascii")
        results: list[xdlms.Result] = [
            identity
            if i.attribute == xdlms.GAS_EQUIPMENT_ID
            else xdlms.AccessResult.OBJECT_UNDEFINED
            for i in items
        ]
        response = xdlms.encode_get_response(invoke_id, results, with_list=len(items) > 1)
        state.gas_invocation_counter += 1
        title = system_title_for(state.gas_serial)
        return self._gas_cipher.seal_general_glo(title, state.gas_invocation_counter, response)

    def install_key(self, gas: bool, key_type: KeyType, wrapped: bytes, now: datetime) -> None:
        """A key transfer: unwrap under the device's own master key and switch to it at once.

        Invocation counters carry on. Raises DlmsError when the key does not unwrap (it was
        not wrapped under this meter's master key) or names a key the device does not have.
        """
        keys = self.state.keys
        master = keys.gas_master if gas else keys.master
        if not master:
            raise DlmsError("no such device on this meter")
        key = unwrap_key(master, wrapped)
        if len(key) != 16:
            raise DlmsError("suite 0 keys are 128 bits")
        slot = _KEY_SLOTS.get((gas, key_type))
        if slot is None:
            raise DlmsError(f"this device has no {key_type} key")
        setattr(keys, slot, key)
        self.state.log(now, MeterEvent.KEYS_INSTALLED)
        self.rekey()

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
