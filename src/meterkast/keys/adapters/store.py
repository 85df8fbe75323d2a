"""SQL access for the crypto-server (SQLite and PostgreSQL alike). Callers own transactions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from meterkast.kernel.codes import KeyStatus, KeyType, MeterType
from meterkast.keys.adapters.sql import data_keys, key_locks, key_meters, meter_keys
from meterkast.keys.domain import KeyRecord, KeyRing

_LIVE = (KeyStatus.NEW, KeyStatus.ACTIVE)


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MeterRow:
    ring: KeyRing
    system_title: bytes
    rx_counter: int
    tx_reserved: int


def insert_key_sets(
    conn: Connection,
    meters: Sequence[tuple[str, MeterType, bytes]],
    keys: Sequence[tuple[str, KeyType, bytes]],
    now: datetime,
) -> None:
    """Bulk provisioning: meters, then their (meter_id, key type, wrapped) ACTIVE keys."""
    conn.execute(
        key_meters.insert(),
        [
            {"meter_id": m, "meter_type": t, "system_title": title, "created_at": now}
            for m, t, title in meters
        ],
    )
    conn.execute(
        meter_keys.insert(),
        [
            {
                "meter_id": m,
                "key_type": k,
                "status": KeyStatus.ACTIVE,
                "wrapped": w,
                "created_at": now,
                "activated_at": now,
            }
            for m, k, w in keys
        ],
    )


def insert_key(
    conn: Connection,
    meter_id: str,
    key_type: KeyType,
    status: KeyStatus,
    wrapped: bytes,
    now: datetime,
) -> KeyRecord:
    activated = now if status is KeyStatus.ACTIVE else None
    key_id = conn.execute(
        meter_keys.insert()
        .values(
            meter_id=meter_id,
            key_type=key_type,
            status=status,
            wrapped=wrapped,
            created_at=now,
            activated_at=activated,
        )
        .returning(meter_keys.c.id)
    ).scalar_one()
    return KeyRecord(key_id, key_type, status, wrapped, now, activated)


def load_meter(conn: Connection, meter_id: str) -> MeterRow | None:
    return load_meters(conn, [meter_id]).get(meter_id)


def load_meters(conn: Connection, meter_ids: Sequence[str]) -> dict[str, MeterRow]:
    """Meters with their NEW and ACTIVE keys, two queries per 500 meters."""
    found: dict[str, MeterRow] = {}
    for chunk in (meter_ids[i : i + 500] for i in range(0, len(meter_ids), 500)):
        meters = conn.execute(sa.select(key_meters).where(key_meters.c.meter_id.in_(chunk))).all()
        records: dict[str, list[KeyRecord]] = {m.meter_id: [] for m in meters}
        rows = conn.execute(
            sa.select(meter_keys)
            .where(meter_keys.c.meter_id.in_(chunk), meter_keys.c.status.in_(_LIVE))
            .order_by(meter_keys.c.id)
        )
        for r in rows:
            records[r.meter_id].append(
                KeyRecord(
                    r.id,
                    KeyType(r.key_type),
                    KeyStatus(r.status),
                    r.wrapped,
                    utc(r.created_at) or r.created_at,
                    utc(r.activated_at),
                    utc(r.retired_at),
                )
            )
        for m in meters:
            ring = KeyRing(m.meter_id, MeterType(m.meter_type), tuple(records[m.meter_id]))
            found[m.meter_id] = MeterRow(ring, m.system_title, m.rx_counter, m.tx_reserved)
    return found


def update_keys(conn: Connection, changes: Sequence[KeyRecord]) -> None:
    """Write status changes in order (expire the old key before activating the new one)."""
    for record in changes:
        conn.execute(
            meter_keys.update()
            .where(meter_keys.c.id == record.id)
            .values(
                status=record.status,
                activated_at=record.activated_at,
                retired_at=record.retired_at,
            )
        )


def reserve_counters(conn: Connection, meter_id: str, block: int) -> int:
    """Atomically move the reserved request counters up by ``block``; return the new limit."""
    limit: int = conn.execute(
        key_meters.update()
        .where(key_meters.c.meter_id == meter_id)
        .values(tx_reserved=key_meters.c.tx_reserved + block)
        .returning(key_meters.c.tx_reserved)
    ).scalar_one()
    return limit


def save_rx_counters(conn: Connection, counters: Iterable[tuple[str, int]]) -> int:
    params = [{"m": meter_id, "rx": rx} for meter_id, rx in counters]
    if not params:
        return 0
    statement = (
        key_meters.update()
        .where(
            key_meters.c.meter_id == sa.bindparam("m"),
            key_meters.c.rx_counter < sa.bindparam("rx"),
        )
        .values(rx_counter=sa.bindparam("rx"))
    )
    conn.execute(statement, params)
    return len(params)


def try_lock(conn: Connection, meter_id: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take the meter's lock unless anyone (us included) holds an unexpired one."""
    conn.execute(
        key_locks.delete().where(key_locks.c.meter_id == meter_id, key_locks.c.expires_at < now)
    )
    holder = conn.execute(
        sa.select(key_locks.c.owner).where(key_locks.c.meter_id == meter_id)
    ).scalar_one_or_none()
    if holder is not None:
        return False  # not re-entrant: an inner release would free the outer holder's lock
    conn.execute(key_locks.insert().values(meter_id=meter_id, owner=owner, expires_at=until))
    return True


def unlock(conn: Connection, meter_id: str, owner: str) -> None:
    conn.execute(
        key_locks.delete().where(key_locks.c.meter_id == meter_id, key_locks.c.owner == owner)
    )


def meters_due(conn: Connection, rotated: Sequence[KeyType], cutoff: datetime) -> list[str]:
    """Meters with a rotated key activated at or before ``cutoff``, or a key change pending."""
    old_active = sa.and_(
        meter_keys.c.status == KeyStatus.ACTIVE,
        meter_keys.c.key_type.in_(rotated),
        meter_keys.c.activated_at <= cutoff,
    )
    pending = meter_keys.c.status == KeyStatus.NEW
    query = (
        sa.select(meter_keys.c.meter_id)
        .where(sa.or_(old_active, pending))
        .distinct()
        .order_by(meter_keys.c.meter_id)
    )
    return list(conn.execute(query).scalars())


def status_counts(conn: Connection) -> list[tuple[MeterType, KeyType, KeyStatus, int]]:
    query = (
        sa.select(
            key_meters.c.meter_type,
            meter_keys.c.key_type,
            meter_keys.c.status,
            sa.func.count(),
        )
        .join(key_meters, key_meters.c.meter_id == meter_keys.c.meter_id)
        .group_by(key_meters.c.meter_type, meter_keys.c.key_type, meter_keys.c.status)
        .order_by(key_meters.c.meter_type, meter_keys.c.key_type, meter_keys.c.status)
    )
    return [(MeterType(t), KeyType(k), KeyStatus(s), int(n)) for t, k, s, n in conn.execute(query)]


def oldest_active(conn: Connection) -> dict[tuple[MeterType, KeyType], datetime]:
    query = (
        sa.select(
            key_meters.c.meter_type, meter_keys.c.key_type, sa.func.min(meter_keys.c.activated_at)
        )
        .join(key_meters, key_meters.c.meter_id == meter_keys.c.meter_id)
        .where(meter_keys.c.status == KeyStatus.ACTIVE)
        .group_by(key_meters.c.meter_type, meter_keys.c.key_type)
    )
    found: dict[tuple[MeterType, KeyType], datetime] = {}
    for meter_type, key_type, moment in conn.execute(query):
        when = utc(moment)
        if when is not None:
            found[(MeterType(meter_type), KeyType(key_type))] = when
    return found


def insert_data_key(conn: Connection, key_id: str, wrapped: bytes, now: datetime) -> None:
    conn.execute(data_keys.insert().values(key_id=key_id, wrapped=wrapped, created_at=now))


def data_key(conn: Connection, key_id: str) -> tuple[bool, bytes | None]:
    """(exists, wrapped key or None when destroyed)."""
    row = conn.execute(sa.select(data_keys.c.wrapped).where(data_keys.c.key_id == key_id)).first()
    return (False, None) if row is None else (True, row.wrapped)


def destroy_data_key(conn: Connection, key_id: str, now: datetime) -> bool:
    if conn.dialect.name == "sqlite":
        # Overwrite freed pages so the wrapped bytes do not linger in the database file.
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    result = conn.execute(
        data_keys.update()
        .where(data_keys.c.key_id == key_id, data_keys.c.wrapped.is_not(None))
        .values(wrapped=None, destroyed_at=now)
    )
    return bool(result.rowcount == 1)
