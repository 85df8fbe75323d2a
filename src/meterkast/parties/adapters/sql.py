"""Tables of parties, customers and supply contracts."""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import CustomerKind, PartyRole

parties = sa.Table(
    "parties",
    metadata,
    sa.Column("ean", sa.String(13), primary_key=True),
    code_column("role", PartyRole, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(9), primary_key=True),
    code_column("kind", CustomerKind, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(200), nullable=True),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("kvk_number", sa.String(8), nullable=True),
)

contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("connection_ean", sa.ForeignKey("connections.ean"), nullable=False),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("supplier_ean", sa.ForeignKey("parties.ean"), nullable=False, index=True),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date, nullable=True),
    sa.Column("term_end", sa.Date, nullable=True),
    sa.Column("notice_days", sa.SmallInteger, nullable=False),
    sa.CheckConstraint('"end" IS NULL OR "end" >= start', name="end_after_start"),
    sa.Index("ix_contracts_connection_start", "connection_ean", "start", unique=True),
)
