"""The chain and its verification, in memory: each kind of tampering is named at its entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.access.audit import (
    GENESIS,
    AuditRecord,
    Checkpoint,
    Pseudonyms,
    StoredEntry,
    Tampering,
    Verdict,
    chain,
    customer_view,
    decision_record,
    sign_checkpoint,
    verify_chain,
)
from meterkast.access.days import DaySet
from meterkast.access.instance_keys import Secret
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.kernel.codes import LegalBasis, Role

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SEAL = Secret(b"s" * 32)
SIGNER = Ed25519PrivateKey.from_private_bytes(b"k" * 32)
NAMES = Pseudonyms(Secret(b"p" * 32))


def _record(i: int) -> AuditRecord:
    days = DaySet.between(date(2026, 1, 1), date(2026, 1, 1 + i % 20))
    decision = Decision(True, "3.1", LegalBasis.LEGAL_OBLIGATION, ("own contract",), days)
    resource = Resource(f"8716871400000{i:05d}", date(2026, 1, 1), date(2026, 1, 31))
    principal = Principal(Role.SUPPLIER, "8712345678920")
    return decision_record(principal, Action.READ_DAILY, resource, decision,
                           T0 + timedelta(seconds=i), NAMES)  # fmt: skip


def _log(n: int) -> list[StoredEntry]:
    return chain([_record(i) for i in range(n)], 0, GENESIS, SEAL)


def _verify(entries: list[StoredEntry], checkpoints: list[Checkpoint] | None = None,
            head: int | None = None) -> Verdict:  # fmt: skip
    by_hash = {e.hash: e.seq for e in entries}
    return verify_chain(sorted(entries, key=lambda e: e.seq), checkpoints or [],
                        len(entries) if head is None else head, SEAL, SIGNER.public_key(),
                        by_hash.get)  # fmt: skip


def test_appending_in_two_batches_equals_one_batch() -> None:
    whole = _log(6)
    first = chain([_record(i) for i in range(3)], 0, GENESIS, SEAL)
    rest = chain([_record(i) for i in range(3, 6)], 3, first[-1].hash, SEAL)
    assert first + rest == whole
    assert _verify(whole).ok and _verify(whole).entries == 6


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 12), data=st.data())
def test_every_tampering_is_named_at_its_entry(n: int, data: st.DataObject) -> None:
    log = _log(n)
    k = data.draw(st.integers(1, n - 1), label="entry")  # 1-based, not the last
    kind = data.draw(st.sampled_from(["modify", "delete", "forge", "swap"]))
    entries = list(log)
    if kind == "modify":
        entries[k - 1] = replace(log[k - 1], record=replace(log[k - 1].record, purpose="9.9"))
        expected = (k, Tampering.MODIFIED)
    elif kind == "delete":
        del entries[k - 1]
        expected = (k, Tampering.DELETED)
    elif kind == "forge":
        entries[k - 1] = replace(log[k - 1], seal="00" * 32)
        expected = (k, Tampering.INSERTED)
    else:
        j = data.draw(st.integers(k + 1, n), label="other")
        entries[k - 1] = replace(log[j - 1], seq=k)
        entries[j - 1] = replace(log[k - 1], seq=j)
        expected = (k, Tampering.REORDERED)
    verdict = _verify(entries, head=n)
    assert (verdict.first_bad, verdict.tampering) == expected
    assert verdict.entries == k - 1


def test_truncation_below_the_last_checkpoint_is_caught() -> None:
    log = _log(8)
    signed = sign_checkpoint(6, log[5].hash, T0, SIGNER)
    assert _verify(log, [signed]).ok
    verdict = _verify(log[:4], [signed], head=4)
    assert (verdict.first_bad, verdict.tampering, verdict.entries) == (5, Tampering.TRUNCATED, 4)


def test_forged_checkpoints_are_named() -> None:
    log = _log(8)
    good = sign_checkpoint(4, log[3].hash, T0, SIGNER)
    moved = replace(good, seq=6, hash=log[5].hash)
    verdict = _verify(log, [good, moved])
    assert (verdict.first_bad, verdict.tampering, verdict.last_checkpoint) == (
        6,
        Tampering.BAD_CHECKPOINT,
        4,
    )
    stranger = sign_checkpoint(4, log[3].hash, T0, Ed25519PrivateKey.generate())
    assert _verify(log, [stranger]).tampering is Tampering.BAD_CHECKPOINT


def test_a_rewritten_chain_does_not_match_its_checkpoint() -> None:
    log = _log(6)
    signed = sign_checkpoint(5, log[4].hash, T0, SIGNER)
    rewritten = chain([_record(i + 100) for i in range(6)], 0, GENESIS, SEAL)  # a key holder
    verdict = _verify(rewritten, [signed])
    assert (verdict.first_bad, verdict.tampering) == (5, Tampering.MODIFIED)


def test_customer_view_clips_to_own_periods_and_names_staff_by_role() -> None:
    staff = Principal(Role.STAFF_NETLOSS, "emp-1", "Zuid, netverliezen")
    days = DaySet.between(date(2026, 1, 1), date(2026, 3, 31))
    decision = Decision(True, "7.2", LegalBasis.LEGAL_OBLIGATION, ("case",), days)
    resource = Resource("871687140000000011", date(2026, 1, 1), date(2026, 3, 31))
    record = decision_record(staff, Action.READ_DAILY, resource, decision, T0, NAMES)
    mine = DaySet.between(date(2026, 3, 1), date(2026, 12, 31))
    view = customer_view(record, mine, lambda _: None)
    assert view is not None and view.party == "staff netloss, Zuid, netverliezen"
    assert view.days == DaySet.between(date(2026, 3, 1), date(2026, 3, 31))
    assert customer_view(record, DaySet.between(date(2025, 1, 1), date(2025, 2, 1)),
                         lambda _: None) is None  # fmt: skip
    assert "emp-1" not in repr(record)
