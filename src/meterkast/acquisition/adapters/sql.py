"""Head-end state: progress per meter, and the security events of rejected frames."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.acquisition.domain import Progress, ProgressUpdate, SecurityEvent
from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import FrameRejection, ReadOutcome

headend_progress = sa.Table(
    "headend_progress",
    metadata,
    sa.Column("meter_serial", sa.String(32), primary_key=True),
    sa.Column("last_read_day", sa.Date, nullable=True),
    # Registers of the last stored reading (E: import T1, T2, export T1, T2 in Wh; gas: dm3).
    sa.Column("register_1", sa.BigInteger, nullable=True),
    sa.Column("register_2", sa.BigInteger, nullable=True),
    sa.Column("register_3", sa.BigInteger, nullable=True),
    sa.Column("register_4", sa.BigInteger, nullable=True),
    code_column("last_outcome", ReadOutcome, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
)

security_events = sa.Table(
    "security_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("meter_id", sa.String(32), nullable=False, index=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    code_column("reason", FrameRejection, nullable=False),
    # Only a digest of the offending frame: enough to match duplicates, nothing to decrypt.
    sa.Column("frame_sha256", sa.String(64), nullable=False),
)


class SqlHeadEndStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def progress(self) -> dict[str, Progress]:
        """The last stored reading of every meter that has one."""
        out: dict[str, Progress] = {}
        t = headend_progress.c
        with self._engine.connect() as db:
            for row in db.execute(
                sa.select(t.meter_serial, t.last_read_day, t.register_1, t.register_2,
                          t.register_3, t.register_4).where(t.last_read_day.is_not(None))
            ):  # fmt: skip
                values = tuple(v for v in row[2:] if v is not None)
                out[row.meter_serial] = Progress(row.last_read_day, values)
        return out

    def outcomes(self) -> dict[str, ReadOutcome]:
        t = headend_progress.c
        with self._engine.connect() as db:
            return {
                r.meter_serial: ReadOutcome(r.last_outcome)
                for r in db.execute(sa.select(t.meter_serial, t.last_outcome))
            }

    def record(self, updates: Sequence[ProgressUpdate]) -> None:
        """Upsert outcomes; the stored reading moves only where a new one is given."""
        if not updates:
            return
        t = headend_progress.c
        with self._engine.begin() as db:
            existing = set()
            serials = [u.meter_serial for u in updates]
            for start in range(0, len(serials), 5_000):
                existing |= set(
                    db.execute(
                        sa.select(t.meter_serial).where(
                            t.meter_serial.in_(serials[start : start + 5_000])
                        )
                    ).scalars()
                )
            inserts = [_row(u) for u in updates if u.meter_serial not in existing]
            if inserts:
                db.execute(headend_progress.insert(), inserts)
            moved = [_row(u, "key") for u in updates if u.meter_serial in existing and u.progress]
            if moved:
                db.execute(_update(with_reading=True), moved)
            kept = [
                {
                    "key": u.meter_serial,
                    "last_outcome": u.outcome.value,
                    "last_attempt_at": u.at.astimezone(UTC),
                }
                for u in updates
                if u.meter_serial in existing and not u.progress
            ]
            if kept:
                db.execute(_update(with_reading=False), kept)

    def add_security_events(self, events: Iterable[SecurityEvent]) -> None:
        rows = [
            {"meter_id": e.meter_id, "occurred_at": e.occurred_at.astimezone(UTC),
             "reason": e.reason.value,
             "frame_sha256": e.frame_sha256}
            for e in events
        ]  # fmt: skip
        if rows:
            with self._engine.begin() as db:
                db.execute(security_events.insert(), rows)

    def security_events(self, meter_id: str | None = None) -> list[SecurityEvent]:
        query = sa.select(security_events).order_by(security_events.c.id)
        if meter_id is not None:
            query = query.where(security_events.c.meter_id == meter_id)
        with self._engine.connect() as db:
            return [
                SecurityEvent(
                    r.meter_id, _utc(r.occurred_at), FrameRejection(r.reason), r.frame_sha256
                )
                for r in db.execute(query)
            ]


def _utc(moment: datetime) -> datetime:
    """Moments are written in UTC; SQLite hands them back without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _row(update: ProgressUpdate, key: str = "meter_serial") -> dict[str, object]:
    values: list[int | None] = [None] * 4
    day: date | None = None
    if update.progress is not None:
        day = update.progress.day
        values[: len(update.progress.values)] = update.progress.values
    return {
        key: update.meter_serial,
        "last_read_day": day,
        **{f"register_{i}": v for i, v in enumerate(values, start=1)},
        "last_outcome": update.outcome.value,
        "last_attempt_at": update.at.astimezone(UTC),
    }


def _update(with_reading: bool) -> sa.Update:
    t = headend_progress
    values: dict[str, object] = {
        "last_outcome": sa.bindparam("last_outcome"),
        "last_attempt_at": sa.bindparam("last_attempt_at"),
    }
    if with_reading:
        values["last_read_day"] = sa.bindparam("last_read_day")
        values |= {f"register_{i}": sa.bindparam(f"register_{i}") for i in range(1, 5)}
    return t.update().where(t.c.meter_serial == sa.bindparam("key")).values(**values)
