"""Ports of the readings store: the data-key service (crypto-server) and connection facts.

The readings store never holds a data key in clear outside one Parquet read or write: PyArrow
generates a file key per file and asks the data-key service to wrap it under the month's data
key (which stays inside the crypto-server). Destroying the month's data key makes every copy of
that month unreadable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from meterkast.kernel.codes import Product
from meterkast.kernel.errors import DomainError


class DataKeyUnavailableError(DomainError):
    """The data key does not exist (never created, or destroyed by retention)."""

    code = "data-key-unavailable"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"data key {key_id} is not available (destroyed or never created)")
        self.key_id = key_id


class DataKeyService(Protocol):
    """The slice of the crypto-server the readings store needs (one data key per month)."""

    def create_data_key(self, key_id: str) -> None:
        """Create a fresh random data key under ``key_id``; a no-op if it already exists."""
        ...

    def has_data_key(self, key_id: str) -> bool: ...

    def data_key_wrap(self, key_id: str, file_key: bytes) -> bytes:
        """Wrap a Parquet file key under the data key (RFC 3394); for the Parquet KMS client."""
        ...

    def data_key_unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """Unwrap a file key; raise DataKeyUnavailableError once the data key is destroyed."""
        ...

    def destroy_data_key(self, key_id: str) -> None:
        """Destroy the data key for good (idempotent)."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionFact:
    """What validation needs to know about one connection.

    Electricity: ``capacity_amps`` x ``phases`` (e.g. 3x25 A) and the standard annual
    consumption (SJV) in kWh; gas: the meter's maximum flow in m3/h (G4: 6, G6: 10) and the SJV
    in m3. ``solar_kwp`` bounds plausible feed-in.
    """

    ean: str
    product: Product
    expected_annual: float
    capacity_amps: int = 0
    phases: int = 1
    gas_max_m3h: float = 0.0
    solar_kwp: float = 0.0


class ConnectionFacts(Protocol):
    def lookup(self, eans: Sequence[str]) -> dict[str, ConnectionFact]:
        """The facts of the known EANs among ``eans`` (unknown ones are left out)."""
        ...
