"""The audit log's domain: entries, the hash chain, signed checkpoints and their verification.

Entry n stores ``hash_n = SHA-256(hash_{n-1} || canonical JSON of entry n)`` (the JSON holds the
sequence number), the previous hash it was chained to, and a seal ``HMAC(instance key, hash_n)``.
The chain catches deletions and reordering, the seal catches rows forged by someone holding the
database but not the instance keys, and checkpoints signed with the instance Ed25519 key catch a
tail cut off below the last checkpoint. Subjects are stored only as keyed pseudonyms. Pure: no
I/O and no clock; time comes in with each record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import overload

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from meterkast.access.days import DayRange, DaySet
from meterkast.access.instance_keys import Secret, key_id
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role

GENESIS = "0" * 64  # the "previous hash" of entry 1
CHECKPOINT_TAG = "meterkast-audit-checkpoint/1"
ORGANISATION_ROLES = frozenset({Role.SUPPLIER, Role.THIRD_PARTY})  # parties, not people


class Pseudonyms:
    """Keyed pseudonyms (HMAC-SHA256, 128 bits): stable per instance, irreversible without the key.

    The kind is part of the input, so a connection and a party with the same digits differ.
    """

    __slots__ = ("_key",)

    def __init__(self, key: Secret) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "Pseudonyms(<keyed>)"

    def of(self, kind: str, value: str) -> str:
        mac = hmac.new(self._key.reveal(), f"{kind}:{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def connection(self, ean: str) -> str:
        return self.of("connection", ean)

    def party(self, party_id: str) -> str:
        return self.of("party", party_id)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One event as logged, subjects already pseudonymised; it gets its place in the chain later."""

    at: datetime  # UTC
    event: AuditEvent
    role: Role
    principal_ref: str  # pseudonym of the party id (customer, party EAN or staff id)
    party: str | None  # the party EAN in clear, for organisations (supplier, third party) only
    organisation: str | None  # the staff member's (or party's) organisation, never a name
    purpose: str | None
    legal_basis: LegalBasis | None
    action: str | None
    allowed: bool
    subject_ref: str | None  # pseudonym of the connection EAN
    asked_first: date | None
    asked_last: date | None
    days: DaySet  # disclosed days
    reasons: tuple[str, ...]
    policy_version: str | None
    grant_id: str | None
    case_id: str | None
    stored_span: tuple[date | None, date | None] | None = None  # as read back; None: derive

    @property
    def span(self) -> tuple[date | None, date | None]:
        """The hull of asked and disclosed days: lets the store pre-filter by period."""
        if self.stored_span is not None:
            return self.stored_span
        ends = [d for d in (self.asked_first, self.asked_last) if d is not None]
        ends += [d for r in self.days.ranges for d in (r.first, r.last)]
        return (min(ends), max(ends)) if ends else (None, None)

    def body(self, seq: int) -> dict[str, object]:
        """Every stored field, in the form that is hashed."""
        first, last = self.span
        return {
            "seq": seq,
            "at": iso_utc(self.at),
            "event": self.event.value,
            "role": self.role.value,
            "principal": self.principal_ref,
            "party": self.party,
            "organisation": self.organisation,
            "purpose": self.purpose,
            "legal_basis": None if self.legal_basis is None else self.legal_basis.value,
            "action": self.action,
            "allowed": self.allowed,
            "subject": self.subject_ref,
            "asked": [_iso(self.asked_first), _iso(self.asked_last)],
            "span": [_iso(first), _iso(last)],
            "days": self.days.as_pairs(),
            "reasons": list(self.reasons),
            "policy_version": self.policy_version,
            "grant_id": self.grant_id,
            "case_id": self.case_id,
        }


def decision_record(
    principal: Principal,
    action: Action,
    resource: Resource,
    decision: Decision,
    at: datetime,
    pseudonyms: Pseudonyms,
) -> AuditRecord:
    """What the log keeps of one decision: the principal and the connection by pseudonym.

    Free text that came with the request (a purpose, reasons quoting a malformed code) is
    scrubbed of long digit runs, which may be EANs or customer ids, and clipped to its column.
    """
    party = principal.party_id
    return AuditRecord(
        at=at.astimezone(UTC),
        event=AuditEvent.ACCESS_DECISION,
        role=principal.role,
        principal_ref=pseudonyms.party(party),
        party=party if principal.role in ORGANISATION_ROLES and len(party) <= 13 else None,
        organisation=_clip(principal.organisation, 100),
        purpose=_clip(scrub(decision.purpose), 16),
        legal_basis=decision.legal_basis,
        action=action.value,
        allowed=decision.allowed,
        subject_ref=pseudonyms.connection(resource.connection_ean),
        asked_first=resource.first,
        asked_last=resource.last,
        days=decision.days,
        reasons=tuple(scrub(r)[:300] for r in decision.reasons),
        policy_version=_clip(decision.policy_version, 64),
        grant_id=_clip(decision.grant_id, 64),
        case_id=_clip(decision.case_id, 64),
    )


_LONG_NUMBER = re.compile(r"\d{8,}")


@overload
def scrub(text: str) -> str: ...
@overload
def scrub(text: None) -> None: ...
def scrub(text: str | None) -> str | None:
    """Replace digit runs of 8 or more (EANs, customer and KvK numbers) by ``#``."""
    return None if text is None else _LONG_NUMBER.sub("#", text)


def _clip(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    record: AuditRecord | None  # None: the stored row could not even be read back
    prev_hash: str
    hash: str
    seal: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the log had ``seq`` entries and its head hash was ``hash``."""

    seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str  # hex

    def message(self) -> bytes:
        return canonical(
            {
                "v": CHECKPOINT_TAG,
                "seq": self.seq,
                "hash": self.hash,
                "at": iso_utc(self.at),
                "key": self.key_id,
            }
        )


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def chain_hash(prev_hash: str, record: AuditRecord, seq: int) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(record.body(seq))).hexdigest()


def seal(key: Secret, entry_hash: str) -> str:
    return hmac.new(key.reveal(), bytes.fromhex(entry_hash), hashlib.sha256).hexdigest()


def chain(
    records: Sequence[AuditRecord], head_seq: int, head_hash: str, key: Secret
) -> list[StoredEntry]:
    """Give records their places after the head, in order."""
    out: list[StoredEntry] = []
    prev = head_hash
    for offset, record in enumerate(records, start=1):
        seq = head_seq + offset
        digest = chain_hash(prev, record, seq)
        out.append(StoredEntry(seq, record, prev, digest, seal(key, digest)))
        prev = digest
    return out


def sign_checkpoint(seq: int, head_hash: str, at: datetime, key: Ed25519PrivateKey) -> Checkpoint:
    unsigned = Checkpoint(seq, head_hash, at, key_id(key.public_key()), "")
    signature = key.sign(unsigned.message()).hex()
    return Checkpoint(seq, head_hash, at, unsigned.key_id, signature)


def checkpoint_valid(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(bytes.fromhex(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError):
        return False
    return checkpoint.key_id == key_id(public)


class Tampering(StrEnum):
    MODIFIED = "modified"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    BAD_CHECKPOINT = "bad_checkpoint"


@dataclass(frozen=True, slots=True)
class Verdict:
    entries: int  # entries that verified, from 1
    last_checkpoint: int | None
    first_bad: int | None = None
    tampering: Tampering | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.tampering is None


def verify_chain(
    entries: Iterable[StoredEntry],
    checkpoints: Sequence[Checkpoint],
    head_seq: int,
    seal_key: Secret,
    public: Ed25519PublicKey,
    seq_of_hash: Callable[[str], int | None],
    start: tuple[int, str] = (0, GENESIS),
) -> Verdict:
    """Walk the log from entry 1; report the first entry that is not as it was written.

    ``checkpoints`` and ``head_seq`` must be read before ``entries`` (entries only grow).
    ``seq_of_hash`` finds where a hash sits in the log, to tell reordering from deletion.
    ``start`` (sequence number and hash of an entry verified before) walks only what follows
    it: ``entries`` then begin after it, and every checkpoint's signature is still checked.
    """
    ordered = sorted(checkpoints, key=lambda c: c.seq)
    forged = next((c for c in ordered if not checkpoint_valid(c, public)), None)
    signed = {c.seq: c for c in ordered if forged is None or c.seq < forged.seq}
    last_cp = max(signed, default=None)
    expected, prev = start[0] + 1, start[1]
    for entry in entries:
        if forged is not None and forged.seq < entry.seq:
            break
        bad = _check(entry, expected, prev, seal_key, seq_of_hash)
        if bad is not None:
            return Verdict(expected - 1, last_cp, bad[0], bad[1], bad[2])
        cp = signed.get(entry.seq)
        if cp is not None and cp.hash != entry.hash:
            detail = f"entry {entry.seq} is not the one checkpoint {cp.seq} signed"
            return Verdict(expected - 1, last_cp, entry.seq, Tampering.MODIFIED, detail)
        expected, prev = expected + 1, entry.hash
    count = expected - 1
    if forged is not None:
        detail = f"checkpoint at {forged.seq} has no valid signature of this instance"
        return Verdict(count, last_cp, forged.seq, Tampering.BAD_CHECKPOINT, detail)
    top = max(head_seq, last_cp or 0)
    if top > count:
        source = "the head" if head_seq >= (last_cp or 0) else f"checkpoint {last_cp}"
        detail = f"entries {count + 1}..{top} are missing though {source} counts {top}"
        return Verdict(count, last_cp, count + 1, Tampering.TRUNCATED, detail)
    return Verdict(count, last_cp)


def _check(
    entry: StoredEntry,
    expected: int,
    prev: str,
    key: Secret,
    seq_of_hash: Callable[[str], int | None],
) -> tuple[int, Tampering, str] | None:
    seq = entry.seq
    if seq != expected:
        return expected, Tampering.DELETED, f"entry {expected} is missing"
    if entry.prev_hash != prev:
        source = seq_of_hash(entry.prev_hash)
        if source is not None:
            return seq, Tampering.REORDERED, f"entry {seq} follows entry {source}, not {seq - 1}"
    if not hmac.compare_digest(seal(key, entry.hash), entry.seal):
        return seq, Tampering.INSERTED, f"entry {seq} was not written by this instance"
    if entry.prev_hash != prev:
        return seq, Tampering.DELETED, f"entry {seq} does not follow entry {seq - 1}"
    if entry.record is None:
        return seq, Tampering.MODIFIED, f"entry {seq} no longer reads as an audit entry"
    if chain_hash(entry.prev_hash, entry.record, seq) != entry.hash:
        return seq, Tampering.MODIFIED, f"entry {seq} was changed after it was written"
    return None


@dataclass(frozen=True, slots=True)
class AuditView:
    """One entry as the customer sees it: when, who (by organisation or role), why, which days."""

    at: datetime
    party: str
    role: Role
    purpose: str | None
    action: str | None
    allowed: bool
    days: DaySet


def days_of(pairs: Iterable[Sequence[str]]) -> DaySet:
    """Rebuild stored ranges exactly as stored (no merging), so hashing sees what is there."""
    return DaySet(tuple(DayRange(date.fromisoformat(a), date.fromisoformat(b)) for a, b in pairs))


def customer_view(
    record: AuditRecord,
    periods: DaySet,
    party_name: Callable[[str], str | None],
    viewer_ref: str | None = None,
) -> AuditView | None:
    """The entry as the customer of ``periods`` may see it, or None if it is not about them.

    Only days inside their own periods are shown (never a previous occupant's); a refused request
    shows the asked days inside their periods. ``viewer_ref`` (the viewer's pseudonym) tells
    their own accesses from another customer's attempts.
    """
    if record.event is not AuditEvent.ACCESS_DECISION:
        return None
    days = record.days
    if not record.allowed and record.asked_first and record.asked_last:
        days = DaySet.between(record.asked_first, record.asked_last)
    mine = DaySet.of(days.ranges) & periods
    if not mine:
        return None
    return AuditView(
        record.at,
        _who(record, party_name, viewer_ref),
        record.role,
        record.purpose,
        record.action,
        record.allowed,
        mine,
    )


def _who(
    record: AuditRecord, party_name: Callable[[str], str | None], viewer_ref: str | None
) -> str:
    if record.role is Role.CUSTOMER:
        if viewer_ref is None:
            return "a customer"
        return "you" if record.principal_ref == viewer_ref else "another customer"
    if record.party is not None:
        return party_name(record.party) or record.party
    role = record.role.value.replace("_", " ")
    return f"{role}, {record.organisation}" if record.organisation else role
