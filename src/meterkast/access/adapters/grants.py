"""Tables of grants and of the cases that justify individual staff access."""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.access.policy import CaseKind
from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import GrantStatus

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("connection_ean", sa.ForeignKey("connections.ean"), nullable=False, index=True),
    sa.Column("grantee", sa.ForeignKey("parties.ean"), nullable=False, index=True),
    sa.Column("scopes", sa.String(40), nullable=False),  # comma-separated GrantScope values
    sa.Column("purpose", sa.String(10), nullable=False),
    sa.Column("data_first", sa.Date, nullable=False),
    sa.Column("data_last", sa.Date, nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
    code_column("status", GrantStatus, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    code_column("kind", CaseKind, nullable=False),
    sa.Column("connection_ean", sa.ForeignKey("connections.ean"), nullable=False, index=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=True),
    sa.Column("purpose", sa.String(10), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("handler", sa.String(64), nullable=True, index=True),  # None: the whole team
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
)
