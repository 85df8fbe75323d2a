"""The crypto-server's public contract, as the head-end, the fleet and the readings store use it.

Only the ``keys`` package implements these; callers depend on this module alone, so a PKCS#11 HSM
or a vault transit engine can stand behind it. Nothing here ever returns a plaintext key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from meterkast.kernel.codes import FrameRejection, KeyType, MeterType
from meterkast.kernel.errors import DomainError


class FrameRejectedError(DomainError):
    """A secured frame failed verification; nothing from it may be used."""

    code = "frame-rejected"

    def __init__(self, meter_id: str, reason: FrameRejection) -> None:
        super().__init__(f"frame from meter {meter_id} rejected: {reason.value}")
        self.meter_id = meter_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A key wrapped (RFC 3394) under another key; safe to store or transfer."""

    key_type: KeyType
    wrapped: bytes

    def __repr__(self) -> str:
        return f"WrappedKey({self.key_type.value}, {len(self.wrapped)} bytes)"


class MeterSession(Protocol):
    """A head-end session with one meter, using keys that stay inside the crypto-server."""

    meter_id: str
    client_system_title: bytes

    def protect(self, plaintext_apdu: bytes) -> bytes:
        """Cipher a request for the meter (general-glo-ciphering, suite 0, own counter)."""
        ...

    def unprotect(self, frame: bytes) -> bytes:
        """Verify and decrypt a meter's response; raise FrameRejectedError on any failure."""
        ...


class CryptoServer(Protocol):
    def provision(
        self, meter_id: str, meter_type: MeterType, system_title: bytes, transport_kek: bytes
    ) -> list[WrappedKey]:
        """Create a meter's key set; return it wrapped under the factory transport key."""
        ...

    def session(self, meter_id: str) -> MeterSession: ...
