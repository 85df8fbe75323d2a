"""The privacy officer's desk: acting on data-subject requests, every step audited by name.

The rights service already writes a ``subject_request`` entry for each state change; the desk
adds who did it (the officer's pseudonym) and what was run (export, rectification, erasure...),
and records each page view of personal data under its register activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Protocol

from meterkast.access.audit import AuditRecord, Pseudonyms, Verdict
from meterkast.access.days import DaySet
from meterkast.access.policy import POLICY_VERSION, Principal
from meterkast.kernel.clock import Clock, local_day
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role
from meterkast.kernel.errors import ConflictError
from meterkast.rights.domain import RequestKind, SubjectRequest
from meterkast.rights.service import ErasureLine, Export, RightsService

SUBJECT_REQUESTS = "A.5"  # register activity: data-subject requests
AUDIT_LOG = "A.4"  # register activity: security and access audit log


class StaffAudit(Protocol):
    """What the desk needs of the audit log (``AuditLog`` is one)."""

    @property
    def pseudonyms(self) -> Pseudonyms: ...

    def append(self, record: AuditRecord) -> int: ...

    def verify(self) -> Verdict: ...


@dataclass(frozen=True, slots=True)
class Handled:
    request: SubjectRequest
    lines: Sequence[ErasureLine] = ()


class RequestDesk:
    def __init__(self, rights: RightsService, audit: StaffAudit, clock: Clock) -> None:
        self._rights = rights
        self._audit = audit
        self._clock = clock

    # -- audit -----------------------------------------------------------------------------
    def viewed(self, officer: str, page: str, purpose: str, subject: str | None = None) -> None:
        """A page of personal data was shown to ``officer`` under ``purpose``."""
        self._note(officer, f"view_{page}", purpose, (f"page {page}",), subject)

    def _note(self, officer: str, action: str, purpose: str, reasons: tuple[str, ...],
              customer: str | None = None) -> None:  # fmt: skip
        p = self._audit.pseudonyms
        why = reasons + ((f"about {p.party(customer)}",) if customer else ())
        self._audit.append(AuditRecord(
            at=self._clock().astimezone(UTC), event=AuditEvent.ACCESS_DECISION,
            role=Role.PRIVACY_OFFICER, principal_ref=p.party(officer), party=None,
            organisation="privacy office", purpose=purpose,
            legal_basis=LegalBasis.LEGAL_OBLIGATION, action=action[:32], allowed=True,
            subject_ref=None, asked_first=None, asked_last=None, days=DaySet(), reasons=why,
            policy_version=POLICY_VERSION, grant_id=None, case_id=None,
        ))  # fmt: skip

    def _step(self, officer: str, action: str, request: SubjectRequest) -> None:
        why = (f"{request.kind.value} request {request.id}",)
        self._note(officer, f"dsr_{action}", SUBJECT_REQUESTS, why, request.customer_id)

    # -- tracking --------------------------------------------------------------------------
    def register(self, officer: str, customer_id: str, kind: RequestKind) -> SubjectRequest:
        request = self._rights.submit(customer_id, kind)
        self._step(officer, "register", request)
        return request

    def queue(self, officer: str) -> list[SubjectRequest]:
        self.viewed(officer, "requests", SUBJECT_REQUESTS)
        return self._rights.requests()

    def get(self, officer: str, request_id: str) -> SubjectRequest:
        request = self._rights.get(request_id)
        self._step(officer, "view", request)
        return request

    def start(self, officer: str, request_id: str) -> SubjectRequest:
        return self._save(officer, "start", self._rights.get(request_id).start())

    def extend(self, officer: str, request_id: str, months: int, reason: str) -> SubjectRequest:
        return self._save(officer, "extend", self._rights.get(request_id).extend(months, reason))

    def refuse(self, officer: str, request_id: str, reason: str) -> SubjectRequest:
        done = self._rights.get(request_id).refuse(self._today(), reason)
        return self._save(officer, "refuse", done)

    def complete(self, officer: str, request_id: str, note: str = "") -> SubjectRequest:
        done = self._rights.get(request_id).complete(self._today(), note)
        return self._save(officer, "complete", done)

    # -- acting ----------------------------------------------------------------------------
    def export(self, officer: str, request_id: str, form: str) -> Export:
        """The access export (art. 15) of the request's person, as a download for them."""
        request = self._of_kind(request_id, RequestKind.ACCESS)
        self._step(officer, f"export_{form}", request)
        by = Principal(Role.PRIVACY_OFFICER, officer, organisation="privacy office")
        return self._rights.export(request.customer_id, officer=by, request_id=request.id)

    def rectify(self, officer: str, request_id: str, *, email: str | None,
                phone: str | None) -> Handled:  # fmt: skip
        request = self._of_kind(request_id, RequestKind.RECTIFICATION)
        self._rights.rectify(request.customer_id, email=email, phone=phone)
        note = "contact data corrected"
        return Handled(self._save(officer, "rectify", request.complete(self._today(), note)))

    def erase(self, officer: str, request_id: str) -> Handled:
        request = self._of_kind(request_id, RequestKind.ERASURE)
        lines = self._rights.erase(request.customer_id)
        summary = "; ".join(f"{x.category}: {x.outcome}" for x in lines)
        done = self._save(officer, "erase", request.complete(self._today(), summary))
        return Handled(done, lines)

    def object_to(self, officer: str, request_id: str, activity: str) -> Handled:
        request = self._of_kind(request_id, RequestKind.OBJECTION)
        done = self._rights.decide_objection(request, activity)
        self._step(officer, "object", done)
        return Handled(done)

    def withdraw(self, officer: str, request_id: str) -> Handled:
        request = self._of_kind(request_id, RequestKind.CONSENT_WITHDRAWAL)
        revoked = self._rights.withdraw_all_consent(request.customer_id)
        note = f"{revoked} grant(s) revoked"
        return Handled(self._save(officer, "withdraw", request.complete(self._today(), note)))

    # -- helpers ---------------------------------------------------------------------------
    def _of_kind(self, request_id: str, kind: RequestKind) -> SubjectRequest:
        request = self._rights.get(request_id)
        if request.kind is not kind:
            raise ConflictError(f"this is a {request.kind.value} request, not {kind.value}")
        if request.closed_on is not None:
            raise ConflictError(f"the request is {request.status.value} already")
        return request

    def _save(self, officer: str, action: str, request: SubjectRequest) -> SubjectRequest:
        self._rights.save(request)
        self._step(officer, action, request)
        return request

    def _today(self) -> date:
        return local_day(self._clock())
