"""The fleet's device memory: one sealed state blob per simulated E meter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.db.metadata import metadata

fleet_meters = sa.Table(
    "fleet_meters",
    metadata,
    sa.Column("serial", sa.String(32), primary_key=True),
    sa.Column("connection_ean", sa.String(18), nullable=False, unique=True),
    sa.Column("system_title", sa.LargeBinary(8), nullable=False, unique=True),
    # nonce ‖ AES-GCM(device storage key, state); the key never touches the database.
    sa.Column("sealed_state", sa.LargeBinary, nullable=False),
)


class SqlFleetStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def serials(self) -> list[str]:
        with self._engine.connect() as db:
            return list(
                db.execute(sa.select(fleet_meters.c.serial).order_by(fleet_meters.c.serial))
                .scalars()
                .all()
            )

    def load(self, serials: Iterable[str]) -> dict[str, bytes]:
        wanted = list(serials)
        found: dict[str, bytes] = {}
        with self._engine.connect() as db:
            for start in range(0, len(wanted), 5_000):
                chunk = wanted[start : start + 5_000]
                for row in db.execute(
                    sa.select(fleet_meters.c.serial, fleet_meters.c.sealed_state).where(
                        fleet_meters.c.serial.in_(chunk)
                    )
                ):
                    found[row.serial] = row.sealed_state
        return found

    def add(self, rows: Sequence[tuple[str, str, bytes, bytes]]) -> None:
        """Insert new meters: (serial, connection EAN, system title, sealed state)."""
        if not rows:
            return
        with self._engine.begin() as db:
            db.execute(
                fleet_meters.insert(),
                [
                    {"serial": s, "connection_ean": e, "system_title": t, "sealed_state": b}
                    for s, e, t, b in rows
                ],
            )

    def save(self, states: Sequence[tuple[str, bytes]]) -> None:
        """Replace the sealed state of existing meters."""
        if not states:
            return
        statement = (
            fleet_meters.update()
            .where(fleet_meters.c.serial == sa.bindparam("key"))
            .values(sealed_state=sa.bindparam("blob"))
        )
        with self._engine.begin() as db:
            db.execute(statement, [{"key": s, "blob": b} for s, b in states])
