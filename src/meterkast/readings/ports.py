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
from meterkast.keys.api import DataKeyService

__all__ = ["ConnectionFact", "ConnectionFacts", "DataKeyService", "DataKeyUnavailableError"]


class DataKeyUnavailableError(DomainError):
    """The data key does not exist (never created, or destroyed by retention)."""

    code = "data-key-unavailable"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"data key {key_id} is not available (destroyed or never created)")
        self.key_id = key_id


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
