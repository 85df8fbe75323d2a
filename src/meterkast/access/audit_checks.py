"""Verifying the audit log cheaply per view without ever claiming more than was checked.

A full verification walks every entry (linear: about 30,000 entries a second) and records what
it found in ``audit_verifications``: when, up to which entry and that entry's hash, and the
first bad entry if any. A page view then walks only the entries after the last clean full run
and re-checks every signed checkpoint (signature, and that the entry it signed still carries
its hash). An entry edited before that point is caught by the next full run, not by the view;
the view says so and names the time of the full run it relies on (docs/decisions/0012).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import audit_checkpoints, audit_entries, audit_verifications
from meterkast.access.audit import Tampering, Verdict
from meterkast.access.audit_service import AuditLog
from meterkast.kernel.clock import Clock


@dataclass(frozen=True, slots=True)
class FullRun:
    """The recorded result of one full verification."""

    at: datetime
    verdict: Verdict
    head_hash: str | None  # hash of entry ``verdict.entries`` (None for an empty log)


@dataclass(frozen=True, slots=True)
class Status:
    """What a view may say: the last full run, and the walk of what came after it."""

    full: FullRun
    recent: Verdict | None  # None when the full run itself failed: nothing is walked on it
    walked_from: int  # first entry the recent walk covered (``full.verdict.entries + 1``)

    @property
    def ok(self) -> bool:
        return self.full.verdict.ok and self.recent is not None and self.recent.ok

    @property
    def first_problem(self) -> Verdict:
        """The verdict to show: the full run's failure, else the recent walk's."""
        if self.recent is None or self.full.verdict.tampering is not None:
            return self.full.verdict
        return self.recent


class AuditChecks:
    def __init__(self, engine: Engine, log: AuditLog, clock: Clock) -> None:
        self._engine = engine
        self._log = log
        self._clock = clock

    def full(self) -> FullRun:
        """Walk the whole log now and record the result (``meterkast audit verify``)."""
        at = self._clock()
        verdict = self._log.verify()
        head_hash = self._hash_of(verdict.entries) if verdict.entries else None
        with self._engine.begin() as db:
            db.execute(audit_verifications.insert().values(
                at=at.astimezone(UTC), entries=verdict.entries, head_hash=head_hash,
                last_checkpoint=verdict.last_checkpoint, first_bad=verdict.first_bad,
                tampering=None if verdict.tampering is None else verdict.tampering.value,
                detail=verdict.detail,
            ))  # fmt: skip
        return FullRun(at, verdict, head_hash)

    def last_full(self) -> FullRun | None:
        v = audit_verifications.c
        with self._engine.connect() as db:
            row = db.execute(sa.select(audit_verifications).order_by(v.id.desc()).limit(1)).first()
        if row is None:
            return None
        m = row._mapping
        tampering = None if m["tampering"] is None else Tampering(m["tampering"])
        verdict = Verdict(int(m["entries"]), m["last_checkpoint"], m["first_bad"], tampering,
                          m["detail"])  # fmt: skip
        at: datetime = m["at"]
        return FullRun(at if at.tzinfo else at.replace(tzinfo=UTC), verdict, m["head_hash"])

    def status(self) -> Status:
        """The cheap check for a view; with no full run recorded yet, one is run first."""
        full = self.last_full() or self.full()
        base = full.verdict.entries
        if not full.verdict.ok:
            return Status(full, None, base + 1)
        if base and self._hash_of(base) != full.head_hash:
            detail = f"entry {base} is not the one the last full verification ended on"
            return Status(full, Verdict(base - 1, None, base, Tampering.MODIFIED, detail), base)
        signed = self._checkpoint_mismatch(base)
        if signed is not None:
            return Status(full, signed, base + 1)
        recent = self._log.verify(after=(base, full.head_hash) if base and full.head_hash else None)
        return Status(full, recent, base + 1)

    def _hash_of(self, seq: int) -> str | None:
        with self._engine.connect() as db:
            found: str | None = db.execute(
                sa.select(audit_entries.c.hash).where(audit_entries.c.seq == seq)
            ).scalar()
        return found

    def _checkpoint_mismatch(self, upto: int) -> Verdict | None:
        """A checkpoint at or before ``upto`` whose entry no longer carries the signed hash."""
        e, c = audit_entries.c, audit_checkpoints.c
        query = (
            sa.select(c.seq, c.hash, e.hash.label("stored"))
            .select_from(audit_checkpoints.outerjoin(audit_entries, e.seq == c.seq))
            .where(c.seq <= upto)
            .order_by(c.seq)
        )
        with self._engine.connect() as db:
            for seq, signed, stored in db.execute(query):
                if stored != signed:
                    detail = f"entry {seq} is not the one checkpoint {seq} signed"
                    return Verdict(0, seq, int(seq), Tampering.MODIFIED, detail)
        return None
