"""The audit log as the privacy officer reads it: entries as stored, filtered and paged.

Rows are shown as they sit in the table (subjects and principals by pseudonym), so an edited
row shows its edited values; whether the chain still holds is ``AuditLog.verify``'s answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import audit_entries
from meterkast.access.audit import Pseudonyms
from meterkast.kernel.clock import AMSTERDAM

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the officer narrows the log to; every field is optional."""

    connection_ean: str | None = None
    party: str | None = None  # a party EAN-13, customer id or staff id
    purpose: str | None = None
    first_day: date | None = None  # Dutch calendar days of the entry's time
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: str  # as stored, in Dutch wall-clock time where it still reads as a time
    event: str
    role: str
    principal_ref: str
    party: str | None
    organisation: str | None
    purpose: str | None
    action: str | None
    allowed: bool
    subject_ref: str | None
    days: str
    reasons: str
    case_id: str | None
    grant_id: str | None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), AMSTERDAM).astimezone(UTC)


def _local(value: object) -> str:
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _text(stored: object) -> str:
    """A JSON column as readable text; what no longer parses is shown as it is."""
    try:
        value = json.loads(str(stored))
    except ValueError:
        return str(stored)
    if isinstance(value, list):
        return "; ".join(" to ".join(v) if isinstance(v, list) else str(v) for v in value)
    return str(value)


class AuditSearch:
    def __init__(self, engine: Engine, pseudonyms: Pseudonyms) -> None:
        self._engine = engine
        self._pseudonyms = pseudonyms

    def _where(self, wanted: AuditFilter) -> list[sa.ColumnElement[bool]]:
        c = audit_entries.c
        clauses: list[sa.ColumnElement[bool]] = []
        if wanted.connection_ean:
            clauses.append(c.subject_ref == self._pseudonyms.connection(wanted.connection_ean))
        if wanted.party:
            clauses.append(
                sa.or_(
                    c.party == wanted.party,
                    c.principal_ref == self._pseudonyms.party(wanted.party),
                )
            )
        if wanted.purpose:
            clauses.append(c.purpose == wanted.purpose)
        if wanted.first_day:
            clauses.append(c.at >= _start_of(wanted.first_day))
        if wanted.last_day:
            clauses.append(c.at < _start_of(wanted.last_day + timedelta(days=1)))
        return clauses

    def page(
        self, wanted: AuditFilter, *, page: int = 1, size: int = PAGE_SIZE
    ) -> tuple[list[AuditRow], int]:
        """Newest first; returns one page of rows and how many match in all."""
        clauses = self._where(wanted)
        c = audit_entries.c
        query = sa.select(audit_entries).where(*clauses).order_by(c.seq.desc())
        count = sa.select(sa.func.count()).select_from(audit_entries).where(*clauses)
        with self._engine.connect() as db:
            total = int(db.execute(count).scalar() or 0)
            rows = db.execute(query.offset((max(page, 1) - 1) * size).limit(size)).all()
        out = []
        for row in rows:
            m = row._mapping
            out.append(
                AuditRow(
                    seq=int(m["seq"]),
                    at=_local(m["at"]),
                    event=str(m["event"]),
                    role=str(m["role"]),
                    principal_ref=str(m["principal_ref"]),
                    party=m["party"],
                    organisation=m["organisation"],
                    purpose=m["purpose"],
                    action=m["action"],
                    allowed=bool(m["allowed"]),
                    subject_ref=m["subject_ref"],
                    days=_text(m["days"]),
                    reasons=_text(m["reasons"]),
                    case_id=m["case_id"],
                    grant_id=m["grant_id"],
                )
            )
        return out, total
