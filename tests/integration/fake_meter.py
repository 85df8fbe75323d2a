"""Fake meters that really unwrap, install and use their keys, and can crash mid-transfer."""

from __future__ import annotations

from dataclasses import dataclass, field

from meterkast.dlms import DlmsError, Suite0Cipher, unwrap_key
from meterkast.kernel.codes import KeyType
from meterkast.keys.api import FrameRejectedError, MeterSession, WrappedKey

GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")


class MeterCrashedError(ConnectionError):
    pass


@dataclass
class FakeMeter:
    meter_id: str
    system_title: bytes
    keys: dict[KeyType, bytes] = field(default_factory=dict)
    ever_held: list[bytes] = field(default_factory=list)
    last_request: int = -1
    counter: int = 0

    def load(self, transport_kek: bytes, shipped: list[WrappedKey]) -> None:
        for item in shipped:
            self._install(item.key_type, unwrap_key(transport_kek, item.wrapped))

    def _install(self, key_type: KeyType, key: bytes) -> None:
        self.keys[key_type] = key
        self.ever_held.append(key)

    def _cipher(self) -> Suite0Cipher:
        return Suite0Cipher(
            self.keys[KeyType.ENCRYPTION], self.keys.get(KeyType.AUTHENTICATION, b"")
        )

    def respond(self, payload: bytes) -> bytes:
        """An unsolicited secured frame (a reading push)."""
        self.counter += 1
        return self._cipher().seal_general_glo(self.system_title, self.counter, payload)

    def handle(self, request: bytes) -> bytes | None:
        try:
            apdu, plaintext = self._cipher().open_general_glo(request)
        except DlmsError:
            return None  # a real meter answers with an exception-response; none here
        if apdu.invocation_counter <= self.last_request:
            return None
        self.last_request = apdu.invocation_counter
        return self.respond(b"\xc4" + plaintext)

    def accept_transfer(self, key_type: KeyType, wrapped: bytes) -> None:
        self._install(key_type, unwrap_key(self.keys[KeyType.MASTER], wrapped))


@dataclass
class FakeLink:
    """Implements MeterKeyPort over fake meters; ``crash`` names transfers that fail."""

    meters: dict[str, FakeMeter] = field(default_factory=dict)
    # (meter_id, key_type) -> "before" (meter never gets it) or "after" (gets it, link drops)
    crash: dict[tuple[str, KeyType], str] = field(default_factory=dict)
    refuse: set[tuple[str, KeyType]] = field(default_factory=set)
    transfers: int = 0

    def add(self, meter: FakeMeter) -> FakeMeter:
        self.meters[meter.meter_id] = meter
        return meter

    def transfer_key(self, meter_id: str, key_type: KeyType, wrapped: bytes) -> None:
        self.transfers += 1
        mode = self.crash.pop((meter_id, key_type), None)
        if mode == "before":
            raise MeterCrashedError("link dropped before the meter stored the key")
        if (meter_id, key_type) in self.refuse:
            return  # the meter acknowledges but keeps its old key
        self.meters[meter_id].accept_transfer(key_type, wrapped)
        if mode == "after":
            raise MeterCrashedError("link dropped after the meter stored the key")

    def probe(self, meter_id: str, session: MeterSession) -> bool:
        response = self.meters[meter_id].handle(session.protect(GET_CLOCK))
        if response is None:
            return False
        try:
            session.unprotect(response)
        except FrameRejectedError:
            return False
        return True
