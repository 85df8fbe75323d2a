"""a case serves one activity and has a handler or the team; recorded audit verifications

Revision ID: 0011
Revises: 0010

``cases.purpose`` exists since 0003 but was never read by the decision. It now is: a case
lets staff use only the activity it was opened for. An open case whose stored purpose is not
one of its kind's activities could serve nothing under the new rule, so it is closed here
(at migration time) rather than left looking usable in a handler's list.

``cases.handler`` is the staff id the case is assigned to, NULL for the whole team; existing
cases go to the staff member who opened them, as the portal treated them until now.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ACTIVITIES = {
    "service": ("1.4", "1.5", "1.6"),
    "netloss": ("7.1", "7.2", "7.3"),
    "dispute": ("3.5", "3.9", "3.10", "3.11"),
}


def upgrade() -> None:
    cases = sa.table(
        "cases",
        sa.column("kind", sa.String()),
        sa.column("purpose", sa.String()),
        sa.column("closed_at", sa.DateTime(timezone=True)),
        sa.column("opened_by", sa.String()),
        sa.column("handler", sa.String()),
    )
    fits = sa.or_(*(sa.and_(cases.c.kind == kind, cases.c.purpose.in_(ids))
                    for kind, ids in _ACTIVITIES.items()))  # fmt: skip
    op.execute(
        cases.update()
        .where(cases.c.closed_at.is_(None), sa.not_(fits))
        .values(closed_at=datetime.now(UTC))
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("handler", sa.String(length=64), nullable=True))
    op.execute(cases.update().values(handler=cases.c.opened_by))
    op.create_index(op.f("ix_cases_handler"), "cases", ["handler"], unique=False)
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.Column("last_checkpoint", sa.BigInteger(), nullable=True),
        sa.Column("first_bad", sa.BigInteger(), nullable=True),
        sa.Column("tampering", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verifications")),
    )


def downgrade() -> None:
    # Cases closed by the upgrade stay closed: reopening them would restore access by accident.
    op.drop_table("audit_verifications")
    op.drop_index(op.f("ix_cases_handler"), table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("handler")
