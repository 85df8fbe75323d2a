"""Tables of the crypto-server. Every key column holds a key wrapped under the master key."""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import KeyStatus, KeyType, MeterType

_LIVE = "status IN ('new', 'active')"

key_meters = sa.Table(
    "key_meters",
    metadata,
    sa.Column("meter_id", sa.String(32), primary_key=True),
    code_column("meter_type", MeterType, nullable=False),
    sa.Column("system_title", sa.LargeBinary(8), nullable=False, unique=True),
    # Highest invocation counter seen from the meter (written in batches by flush()).
    sa.Column("rx_counter", sa.BigInteger, nullable=False, server_default="0"),
    # Our own counters below this may have been used: a restart continues above it.
    sa.Column("tx_reserved", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

meter_keys = sa.Table(
    "meter_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("meter_id", sa.ForeignKey("key_meters.meter_id"), nullable=False),
    code_column("key_type", KeyType, nullable=False),
    code_column("status", KeyStatus, nullable=False),
    sa.Column("wrapped", sa.LargeBinary(40), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    # At most one NEW and one ACTIVE key per meter and key type, enforced by the database too.
    sa.Index(
        "uq_meter_keys_live",
        "meter_id",
        "key_type",
        "status",
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    ),
)

key_locks = sa.Table(
    "key_locks",
    metadata,
    sa.Column("meter_id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("key_id", sa.String(128), primary_key=True),
    # NULL once destroyed; the row stays so the id is never issued twice.
    sa.Column("wrapped", sa.LargeBinary(40), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
)
