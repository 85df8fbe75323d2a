"""The audit log as a service: append decisions, sign checkpoints, verify, and let people read.

Appenders serialise on the single head row, so the chain never forks (see ``HeadWriter``).
Reads stay on SQLAlchemy Core; the per-request append runs on the bare DB-API connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access import audit_events
from meterkast.access.adapters.anchor import read_anchor, write_anchor
from meterkast.access.adapters.sql import HeadWriter, audit_checkpoints, audit_entries, audit_head
from meterkast.access.audit import (
    GENESIS,
    AuditRecord,
    AuditView,
    Checkpoint,
    Pseudonyms,
    StoredEntry,
    Verdict,
    chain,
    customer_view,
    days_of,
    decision_record,
    sign_checkpoint,
    verify_chain,
)
from meterkast.access.days import DaySet
from meterkast.access.instance_keys import InstanceKeys
from meterkast.access.policy import POLICY_VERSION, Action, Decision, Principal, Resource
from meterkast.access.tokens import TokenClaims
from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role

INSERT_CHUNK = 5_000
READ_CHUNK = 2_000


def _no_name(_party: str) -> str | None:
    return None


class AuditLog:
    """The append-only, hash-chained audit log of one instance (the ``AuditTrail`` port)."""

    def __init__(
        self,
        engine: Engine,
        keys: InstanceKeys,
        clock: Clock,
        *,
        checkpoint_every: int = 1000,
        party_name: Callable[[str], str | None] = _no_name,
        anchor: Path | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self._engine = engine
        self._writer = HeadWriter(engine)
        self._keys = keys
        self._clock = clock
        self._every = checkpoint_every
        self._party_name = party_name
        self._anchor_path = anchor  # a copy of the latest checkpoint outside the database

    def __repr__(self) -> str:
        return f"AuditLog({self._engine.dialect.name}, checkpoint every {self._every})"

    @cached_property
    def pseudonyms(self) -> Pseudonyms:
        return Pseudonyms(self._keys.pseudonym_key)

    # -- writing -------------------------------------------------------------------------
    def record(
        self,
        *,
        principal: Principal,
        action: Action,
        resource: Resource,
        decision: Decision,
        at: datetime,
    ) -> None:
        """Log one decision, allowed or denied, before the caller acts on it."""
        self.append(self.record_of(principal, action, resource, decision, at))

    def record_of(
        self,
        principal: Principal,
        action: Action,
        resource: Resource,
        decision: Decision,
        at: datetime,
    ) -> AuditRecord:
        """The record for a decision, for jobs that collect many and call :meth:`append_many`."""
        return decision_record(principal, action, resource, decision, at, self.pseudonyms)

    def token_issued(self, claims: TokenClaims, at: datetime) -> int:
        return self.append(audit_events.token_issued(claims, at, self.pseudonyms))

    def token_revoked(self, token_id: str, at: datetime) -> int:
        return self.append(audit_events.token_revoked(token_id, at, self.pseudonyms))

    def subject_request(
        self, *, request_id: str, customer_id: str, kind: str, status: str, at: datetime
    ) -> int:
        """A step in handling a data-subject request (register activity A.5)."""
        record = AuditRecord(
            at=at.astimezone(UTC),
            event=AuditEvent.SUBJECT_REQUEST,
            role=Role.PRIVACY_OFFICER,
            principal_ref=self.pseudonyms.party("privacy-office"),
            party=None,
            organisation=None,
            purpose="A.5",
            legal_basis=LegalBasis.LEGAL_OBLIGATION,  # GDPR art. 12-22
            action=f"dsr_{status}"[:32],
            allowed=True,
            subject_ref=None,
            asked_first=None,
            asked_last=None,
            days=DaySet(),
            reasons=(f"{kind} request {request_id} of {self.pseudonyms.party(customer_id)}",),
            policy_version=POLICY_VERSION,
            grant_id=None,
            case_id=None,
        )
        return self.append(record)

    def append(self, record: AuditRecord) -> int:
        return self.append_many([record])

    def append_many(self, records: Sequence[AuditRecord]) -> int:
        """Append in one transaction and return the last sequence number."""
        signed: Checkpoint | None = None
        with self._writer.transaction() as tx:
            head_seq, head_hash = tx.lock_head()
            if not records:
                return head_seq
            stored = chain(records, head_seq, head_hash, self._keys.audit_mac_key)
            rows = [_row(e) for e in stored]
            for start in range(0, len(rows), INSERT_CHUNK):
                tx.insert(audit_entries.name, rows[start : start + INSERT_CHUNK])
            last = stored[-1]
            tx.move_head(last.seq, last.hash)
            if last.seq // self._every > head_seq // self._every:
                signed = self._sign(last)
                tx.insert(audit_checkpoints.name, [_checkpoint_row(signed)])
        if signed is not None:
            self._anchor(signed)  # after commit: the anchor never runs ahead of the log
        return last.seq

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (None if the log is empty or its head is signed already)."""
        with self._writer.transaction() as tx:
            seq, head_hash = tx.lock_head()
            if seq == 0:
                return None
            if tx.has_checkpoint(seq):
                return None
            signed = sign_checkpoint(seq, head_hash, self._clock(), self._keys.audit_signing_key)
            tx.insert(audit_checkpoints.name, [_checkpoint_row(signed)])
        self._anchor(signed)
        return signed

    def _sign(self, entry: StoredEntry) -> Checkpoint:
        return sign_checkpoint(entry.seq, entry.hash, self._clock(), self._keys.audit_signing_key)

    def _anchor(self, checkpoint: Checkpoint) -> None:
        if self._anchor_path is not None:
            write_anchor(self._anchor_path, checkpoint)

    # -- verifying -----------------------------------------------------------------------
    def verify(self, after: tuple[int, str] | None = None) -> Verdict:
        """Walk the whole log; the verdict names the first entry not as it was written.

        ``after`` (an entry's sequence number and hash, verified before) walks only the entries
        that follow it; every checkpoint's signature is checked either way.
        """
        anchored = None if self._anchor_path is None else read_anchor(self._anchor_path)
        with self._engine.connect() as db:
            # Checkpoints and head first: entries only grow, so these never run ahead of them.
            checkpoints = [_checkpoint(r) for r in db.execute(sa.select(audit_checkpoints))]
            checkpoints += [anchored] if anchored is not None else []
            head_seq = db.execute(sa.select(audit_head.c.seq)).scalar() or 0
            query = sa.select(audit_entries).order_by(audit_entries.c.seq)
            if after is not None:
                query = query.where(audit_entries.c.seq > after[0])
            result = db.execution_options(yield_per=READ_CHUNK).execute(query)
            try:  # the walk may stop early: close the (server-side) cursor either way
                entries = _readable(result)
                public = self._keys.audit_signing_key.public_key()
                mac_key = self._keys.audit_mac_key
                return verify_chain(
                    entries, checkpoints, head_seq, mac_key, public, self._seq_of_hash,
                    after or (0, GENESIS),
                )  # fmt: skip
            finally:
                result.close()

    def _seq_of_hash(self, entry_hash: str) -> int | None:
        with self._engine.connect() as db:
            query = sa.select(audit_entries.c.seq).where(audit_entries.c.hash == entry_hash)
            found: int | None = db.execute(query).scalar()
            return found

    # -- reading -------------------------------------------------------------------------
    def entries_for_connection(
        self, ean: str, periods: DaySet, viewer: str | None = None
    ) -> list[AuditView]:
        """Decisions about the connection that touch days of ``periods``, clipped to them.

        ``viewer`` is the reading customer's id: their own accesses then show as "you".
        """
        if not periods:
            return []
        first, last = periods.ranges[0].first, periods.ranges[-1].last
        c = audit_entries.c
        query = (
            sa.select(audit_entries)
            .where(c.subject_ref == self.pseudonyms.connection(ean))
            .where(c.span_last >= first, c.span_first <= last)
            .order_by(c.seq)
        )
        with self._engine.connect() as db:
            records = [r for r in (_entry(row).record for row in db.execute(query)) if r]
        me = None if viewer is None else self.pseudonyms.party(viewer)
        views = (customer_view(r, periods, self._party_name, me) for r in records)
        return [v for v in views if v is not None]

    def entries_for(
        self, ean: str, periods: DaySet, viewer: str | None = None
    ) -> list[Mapping[str, object]]:
        """The ``AccessLogReader`` port: the customer's view as plain mappings."""
        return [
            {
                "at": v.at,
                "party": v.party,
                "role": v.role.value,
                "purpose": v.purpose,
                "action": v.action or "",
                "allowed": v.allowed,
                "connection_ean": ean,
                "days": [{"first": r.first, "last": r.last} for r in v.days.ranges],
            }
            for v in self.entries_for_connection(ean, periods, viewer)
        ]

    def entries_for_party(
        self,
        party_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditRecord]:
        """What one principal did (a party's own accesses, a staff member's for the officer)."""
        c = audit_entries.c
        query = sa.select(audit_entries).where(c.principal_ref == self.pseudonyms.party(party_id))
        if since is not None:
            query = query.where(c.at >= since.astimezone(UTC))
        if until is not None:
            query = query.where(c.at < until.astimezone(UTC))
        with self._engine.connect() as db:
            rows = db.execute(query.order_by(c.seq).limit(limit))
            return [r for r in (_entry(row).record for row in rows) if r]

    def count(self) -> int:
        with self._engine.connect() as db:
            return int(db.execute(sa.select(audit_head.c.seq)).scalar() or 0)


def _row(entry: StoredEntry) -> dict[str, object]:
    r = entry.record
    if r is None:  # only entries read back can lack a record; chain() always has one
        raise ValueError(f"entry {entry.seq} has no record to store")
    first, last = r.span
    return {
        "seq": entry.seq,
        "at": r.at.astimezone(UTC),
        "event": r.event.value,
        "role": r.role.value,
        "principal_ref": r.principal_ref,
        "party": r.party,
        "organisation": r.organisation,
        "purpose": r.purpose,
        "legal_basis": None if r.legal_basis is None else r.legal_basis.value,
        "action": r.action,
        "allowed": r.allowed,
        "subject_ref": r.subject_ref,
        "asked_first": r.asked_first,
        "asked_last": r.asked_last,
        "span_first": first,
        "span_last": last,
        "days": json.dumps(r.days.as_pairs()),
        "reasons": json.dumps(list(r.reasons)),
        "policy_version": r.policy_version,
        "grant_id": r.grant_id,
        "case_id": r.case_id,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "seal": entry.seal,
    }


def _readable(rows: Iterable[sa.Row[tuple[object, ...]]]) -> Iterator[StoredEntry]:
    """Entries in order; a row the driver cannot even decode ends the walk as an unreadable one."""
    last = 0
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except (ValueError, TypeError) as error:  # e.g. a timestamp column holding garbage
            yield StoredEntry(last + 1, None, "", "", type(error).__name__)
            return
        entry = _entry(row)
        last = entry.seq
        yield entry


def _entry(row: sa.Row[tuple[object, ...]]) -> StoredEntry:
    m = row._mapping
    seq, prev_hash, entry_hash, seal = int(m["seq"]), m["prev_hash"], m["hash"], m["seal"]
    try:
        record: AuditRecord | None = AuditRecord(
            at=_utc(m["at"]),
            event=AuditEvent(m["event"]),
            role=Role(m["role"]),
            principal_ref=m["principal_ref"],
            party=m["party"],
            organisation=m["organisation"],
            purpose=m["purpose"],
            legal_basis=None if m["legal_basis"] is None else LegalBasis(m["legal_basis"]),
            action=m["action"],
            allowed=bool(m["allowed"]),
            subject_ref=m["subject_ref"],
            asked_first=m["asked_first"],
            asked_last=m["asked_last"],
            days=days_of(json.loads(m["days"])),
            reasons=tuple(json.loads(m["reasons"])),
            policy_version=m["policy_version"],
            grant_id=m["grant_id"],
            case_id=m["case_id"],
            stored_span=(m["span_first"], m["span_last"]),  # hashed, so an edit shows
        )
    except (ValueError, TypeError, AttributeError):  # edited into something unreadable
        record = None
    return StoredEntry(seq, record, prev_hash, entry_hash, seal)


def _checkpoint_row(checkpoint: Checkpoint) -> dict[str, object]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "at": checkpoint.at.astimezone(UTC),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def _checkpoint(row: sa.Row[tuple[object, ...]]) -> Checkpoint:
    m = row._mapping
    return Checkpoint(int(m["seq"]), m["hash"], _utc(m["at"]), m["key_id"], m["signature"])


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
