"""Connection facts for validation: a fixed table (tests, benchmarks) or the grid register."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from meterkast.grid.domain import Connection
from meterkast.grid.service import GridService
from meterkast.kernel.codes import InstallationKind, Product, ProfileCategory
from meterkast.readings.ports import ConnectionFact, FactColumns

# Maximum flow (m3/h) of the Dutch gas meter sizes.
GAS_MAX_M3H = {4: 6.0, 6: 10.0, 10: 16.0, 16: 25.0, 25: 40.0, 40: 65.0, 65: 100.0, 100: 160.0}
# Until the market context computes SJVs, a typical annual volume per profile (kWh or m3).
TYPICAL_ANNUAL = {
    ProfileCategory.E1A: 2_500.0,
    ProfileCategory.E1B: 3_000.0,
    ProfileCategory.E1C: 3_000.0,
    ProfileCategory.E2A: 25_000.0,
    ProfileCategory.E2B: 25_000.0,
    ProfileCategory.G1A: 1_200.0,
    ProfileCategory.G2A: 20_000.0,
    ProfileCategory.G2C: 20_000.0,
}


class StaticConnectionFacts:
    def __init__(self, facts: Iterable[ConnectionFact] = ()) -> None:
        self._facts = {f.ean: f for f in facts}

    def add(self, fact: ConnectionFact) -> None:
        self._facts[fact.ean] = fact

    def lookup(self, eans: Sequence[str]) -> dict[str, ConnectionFact]:
        return {e: self._facts[e] for e in eans if e in self._facts}

    def lookup_columns(self, eans: np.ndarray, product: Product) -> FactColumns:
        return FactColumns.of(product, [self._facts.get(f"{e:018d}") for e in eans.tolist()])


def fact_of(connection: Connection) -> ConnectionFact:
    capacity = connection.capacity
    kwp = sum(float(i.kwp) for i in connection.installations if i.kind is InstallationKind.SOLAR_PV)
    return ConnectionFact(
        ean=str(connection.ean),
        product=connection.product,
        expected_annual=TYPICAL_ANNUAL.get(connection.profile_category, 100_000.0),
        capacity_amps=capacity.amperes,
        phases=capacity.phases,
        gas_max_m3h=GAS_MAX_M3H.get(capacity.gas_size, 0.0)
        if connection.product is Product.GAS
        else 0.0,
        solar_kwp=kwp,
    )


class GridConnectionFacts:
    """Facts from the connection register, loaded in bulk (a few queries per batch)."""

    def __init__(self, grid: GridService) -> None:
        self._grid = grid

    def lookup(self, eans: Sequence[str]) -> dict[str, ConnectionFact]:
        return {str(c.ean): fact_of(c) for c in self._grid.get_connections(eans)}

    def lookup_columns(self, eans: np.ndarray, product: Product) -> FactColumns:
        texts = [f"{e:018d}" for e in eans.tolist()]
        found = self.lookup(texts)
        return FactColumns.of(product, [found.get(e) for e in texts])
