"""audit log: steps of data-subject requests are an event of their own

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_OLD = "event IN ('access_decision', 'token_issued')"
_NEW = "event IN ('access_decision', 'token_issued', 'subject_request')"


def _replace(check: str) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (rows and order kept).
    with op.batch_alter_table("audit_entries", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_audit_entries_event"), type_="check")
        batch.create_check_constraint("event", check)


def upgrade() -> None:
    _replace(_NEW)


def downgrade() -> None:
    _replace(_OLD)
