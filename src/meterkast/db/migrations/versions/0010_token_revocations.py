"""revoked bearer tokens; token revocations are an audit event of their own

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_OLD = "event IN ('access_decision', 'token_issued', 'subject_request')"
_NEW = "event IN ('access_decision', 'token_issued', 'subject_request', 'token_revoked')"


def _replace(check: str) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (rows and order kept).
    with op.batch_alter_table("audit_entries", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_audit_entries_event"), type_="check")
        batch.create_check_constraint("event", check)


def upgrade() -> None:
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_revoked_tokens_revoked_at"), "revoked_tokens", ["revoked_at"], unique=False
    )
    _replace(_NEW)


def downgrade() -> None:
    _replace(_OLD)
    op.drop_index(op.f("ix_revoked_tokens_revoked_at"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
