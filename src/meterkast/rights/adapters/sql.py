"""The table of data-subject requests."""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.db.metadata import code_column, metadata
from meterkast.rights.domain import RequestKind, RequestStatus

subject_requests = sa.Table(
    "subject_requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False, index=True),
    code_column("kind", RequestKind, nullable=False),
    code_column("status", RequestStatus, nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("deadline", sa.Date, nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
    sa.Column("closed_on", sa.Date, nullable=True),
)
