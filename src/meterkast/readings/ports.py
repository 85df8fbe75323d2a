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

import numpy as np

from meterkast.kernel.codes import Product
from meterkast.kernel.errors import DomainError
from meterkast.keys.api import DataKeyService

__all__ = [
    "ConnectionFact",
    "ConnectionFacts",
    "DataKeyService",
    "DataKeyUnavailableError",
    "FactColumns",
]


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


@dataclass(frozen=True, slots=True)
class FactColumns:
    """The facts of a batch's connections as arrays aligned to its EANs (no object per
    connection: intake looks up 100,000 at a time). ``known`` is False for an EAN that is not
    a connection of the product asked for; its other values are then zero."""

    known: np.ndarray  # bool
    expected_annual: np.ndarray  # float64, kWh or m3
    capacity_amps: np.ndarray  # int64
    phases: np.ndarray  # int64
    gas_max_m3h: np.ndarray  # float64
    solar_kwp: np.ndarray  # float64

    @classmethod
    def of(cls, product: Product, facts: Sequence[ConnectionFact | None]) -> FactColumns:
        """Columns from per-connection facts (None: unknown), e.g. for small fakes."""
        found = [f if f is not None and f.product is product else None for f in facts]
        known = np.array([f is not None for f in found], dtype=bool)
        present = [f for f in found if f is not None]

        def column(values: list[float] | list[int], dtype: type) -> np.ndarray:
            result: np.ndarray = np.zeros(len(found), dtype=dtype)
            result[known] = np.array(values, dtype=dtype)
            return result

        return cls(
            known,
            column([f.expected_annual for f in present], np.float64),
            column([f.capacity_amps for f in present], np.int64),
            column([f.phases for f in present], np.int64),
            column([f.gas_max_m3h for f in present], np.float64),
            column([f.solar_kwp for f in present], np.float64),
        )


class ConnectionFacts(Protocol):
    def lookup(self, eans: Sequence[str]) -> dict[str, ConnectionFact]:
        """The facts of the known EANs among ``eans`` (unknown ones are left out)."""
        ...

    def lookup_columns(self, eans: np.ndarray, product: Product) -> FactColumns:
        """The facts of ``eans`` (int64: the 18 digits as a number) as aligned columns."""
        ...
