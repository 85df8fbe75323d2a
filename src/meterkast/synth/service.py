"""Use case: generate a synthetic grid area and load it into an empty instance."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine

from meterkast.fleet.history import electricity_history, gas_history, history_window
from meterkast.fleet.service import plan_meters
from meterkast.grid.domain import Connection
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock
from meterkast.kernel.errors import ConflictError, InvalidValueError
from meterkast.parties.service import PartiesService
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from meterkast.synth.area import SyntheticArea, generate

MAX_CONNECTIONS = 5_000_000


@dataclass(frozen=True, slots=True)
class GenerateResult:
    area: SyntheticArea
    tables: dict[str, int]


class AreaGenerator:
    def __init__(self, engine: Engine, grid: GridService, parties: PartiesService) -> None:
        self._engine = engine
        self._grid = grid
        self._parties = parties

    def generate(self, connections: int, seed: int, as_of: date) -> GenerateResult:
        """Create the area and store it in one transaction; refuses a non-empty instance."""
        if not 1 <= connections <= MAX_CONNECTIONS:
            raise InvalidValueError(f"--connections must be 1 to {MAX_CONNECTIONS:,}")
        if self._grid.list_connections(limit=1):
            raise ConflictError(
                "this instance already holds a grid area; use a fresh METERKAST_HOME"
            )
        area = generate(connections, seed, as_of)
        with self._engine.begin() as db:
            self._grid.bulk_load(db, area.grid)
            self._parties.bulk_load(db, area.parties)
        counts = {name: len(rows) for name, rows in {**area.grid, **area.parties}.items()}
        return GenerateResult(area, counts)


class HistoryWriter:
    """Writes the months of daily readings before the as-of day, as the fleet's meters read."""

    def __init__(
        self,
        connections: Callable[[], Iterable[Connection]],
        readings: ReadingsService,
        clock: Clock,
    ) -> None:
        self._connections = connections
        self._readings = readings
        self._clock = clock

    def write(self, as_of: date, months: int) -> int:
        if not 1 <= months <= 24:
            raise InvalidValueError("--history-months must be 1 to 24 (the retention window)")
        connections: dict[str, Connection] = {c.ean: c for c in self._connections()}
        first, last = history_window(as_of, months)
        plans, now = plan_meters(connections.values()), self._clock()
        written = self._readings.write_history(
            electricity_history(plans, connections, first, last, now)
        )
        return written + self._readings.write_history(
            gas_history(plans, connections, first, last, now), Dataset.GAS_DAILY
        )
