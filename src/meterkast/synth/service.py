"""Use case: generate a synthetic grid area and load it into an empty instance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine

from meterkast.grid.service import GridService
from meterkast.kernel.errors import ConflictError, InvalidValueError
from meterkast.parties.service import PartiesService
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
