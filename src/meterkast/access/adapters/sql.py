"""Tables of the audit log: append-only entries, signed checkpoints and the chain head.

The head row is the lock appenders queue on, so the chain never forks under concurrency.
"""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role

HASH = 64  # hex SHA-256
REF = 32  # hex pseudonym

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    code_column("event", AuditEvent, nullable=False),
    code_column("role", Role, nullable=False),
    sa.Column("principal_ref", sa.String(REF), nullable=False, index=True),
    sa.Column("party", sa.String(13), nullable=True),
    sa.Column("organisation", sa.String(100), nullable=True),
    sa.Column("purpose", sa.String(16), nullable=True),
    code_column("legal_basis", LegalBasis, nullable=True),
    sa.Column("action", sa.String(32), nullable=True),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("subject_ref", sa.String(REF), nullable=True),
    sa.Column("asked_first", sa.Date, nullable=True),
    sa.Column("asked_last", sa.Date, nullable=True),
    sa.Column("span_first", sa.Date, nullable=True),
    sa.Column("span_last", sa.Date, nullable=True),
    sa.Column("days", sa.Text, nullable=False),  # JSON [[first, last], ...]
    sa.Column("reasons", sa.Text, nullable=False),  # JSON [reason, ...]
    sa.Column("policy_version", sa.String(64), nullable=True),
    sa.Column("grant_id", sa.String(64), nullable=True),
    sa.Column("case_id", sa.String(64), nullable=True),
    sa.Column("prev_hash", sa.String(HASH), nullable=False),
    sa.Column("hash", sa.String(HASH), nullable=False, unique=True),
    sa.Column("seal", sa.String(HASH), nullable=False),
    sa.Index("ix_audit_entries_subject_seq", "subject_ref", "seq"),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(HASH), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(HASH), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)
