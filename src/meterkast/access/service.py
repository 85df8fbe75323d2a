"""The access use case: gather the facts, decide, write the audit entry, then disclose."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from meterkast.access.grant_service import CaseService, GrantService, contract_facts
from meterkast.access.policy import (
    CUSTOMER_OWN,
    SUBJECT_REQUEST,
    Action,
    Decision,
    Denial,
    Facts,
    Principal,
    Resource,
    decide,
)
from meterkast.access.ports import (
    AuditTrail,
    AwaitedAuditTrail,
    FactsReader,
    PurposeCatalog,
    ReadingsQuery,
)
from meterkast.grid.domain import parse_ean18
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import LegalBasis, Role
from meterkast.kernel.errors import DomainError, InvalidCodeError, NotFoundError
from meterkast.parties.service import PartiesService


class AccessDeniedError(DomainError):
    """The decision was deny; ``decision.denial`` says how much the caller may learn."""

    code = "access-denied"

    def __init__(self, decision: Decision) -> None:
        messages = {
            Denial.BAD_REQUEST: "; ".join(decision.reasons),
            Denial.PURPOSE_NOT_ALLOWED: "; ".join(decision.reasons),
            Denial.NO_ACCESS: "no connection with that EAN that you may read",
        }
        super().__init__(messages[decision.denial or Denial.NO_ACCESS])
        self.decision = decision


class AuditUnavailableError(Exception):
    """The decision could not be written to the audit log, so it was not used (a server error).

    The message is the underlying error's type only: no record value reaches a log or a caller.
    """


@dataclass(frozen=True, slots=True)
class Disclosure:
    decision: Decision
    rows: Sequence[Mapping[str, object]]


class AccessService:
    def __init__(
        self,
        *,
        grid: GridService,
        parties: PartiesService,
        grants: GrantService,
        cases: CaseService,
        readings: ReadingsQuery,
        audit: AuditTrail,
        register: PurposeCatalog,
        clock: Clock,
        facts: FactsReader | None = None,
    ) -> None:
        self._facts = facts
        self._grid = grid
        self._parties = parties
        self._grants = grants
        self._cases = cases
        self._readings = readings
        self._audit = audit
        # Checked once: isinstance against a runtime-checkable protocol costs ≈ 20 µs a call.
        self._awaited_audit = audit if isinstance(audit, AwaitedAuditTrail) else None
        self._register = register
        self._clock = clock

    def facts(self, ean: str) -> Facts:
        """The decision's facts: from the one-query reader where wired (the API), else composed
        from the owning services (the reference the reader is tested against)."""
        if self._facts is not None:
            return self._facts.facts_for(ean, self._clock())
        try:
            self._grid.get_connection(ean)
        except NotFoundError:
            return Facts(connection_known=False)
        now = self._clock()
        return Facts(
            connection_known=True,
            contracts=contract_facts(self._parties.contracts_of(ean)),
            grants=self._grants.facts_for(ean, now),
            cases=self._cases.facts_for(ean),
        )

    def decide(
        self,
        principal: Principal,
        action: Action,
        ean: str,
        first: date | None,
        last: date | None,
        purpose: str | None,
    ) -> Decision:
        """Decide and audit; every decision, allowed or denied, is written before it is used."""
        resource, decision, now = self._decided(principal, action, ean, first, last, purpose)
        self._audit.record(
            principal=principal, action=action, resource=resource, decision=decision, at=now
        )
        return decision

    def _decided(
        self,
        principal: Principal,
        action: Action,
        ean: str,
        first: date | None,
        last: date | None,
        purpose: str | None,
    ) -> tuple[Resource, Decision, datetime]:
        """The decision, not yet audited (callers write it before they use it)."""
        now = self._clock()
        try:
            code = parse_ean18(ean)
        except InvalidCodeError as error:
            resource = Resource(ean[:18], first, last)
            decision = Decision(False, purpose, None, (str(error),), denial=Denial.BAD_REQUEST)
        else:
            resource = Resource(code, first, last)
            facts = self.facts(code)
            bases = self._register.legal_bases()
            decision = decide(principal, action, resource, purpose, now, facts, bases)
        return resource, decision, now

    def read(
        self,
        principal: Principal,
        action: Action,
        ean: str,
        first: date | None,
        last: date | None,
        purpose: str | None,
    ) -> Disclosure:
        decision = self.decide(principal, action, ean, first, last, purpose)
        return self._disclosure(action, ean, decision)

    async def answer_async(
        self,
        principal: Principal,
        action: Action,
        ean: str,
        first: date | None,
        last: date | None,
        purpose: str | None,
    ) -> Disclosure:
        """:meth:`read` for a request served in the event loop.

        The decision is queued for the audit log's next group commit and awaited: nothing is
        read, and no denial is answered, before the decision is durable. A failed commit raises
        :class:`AuditUnavailableError` naming only the error's type (a database error's text can
        carry the record's values).
        """
        resource, decision, now = self._decided(principal, action, ean, first, last, purpose)
        trail, awaited = self._audit, self._awaited_audit

        def blocking() -> None:
            trail.record(principal=principal, action=action, resource=resource,
                         decision=decision, at=now)  # fmt: skip

        try:
            if awaited is not None:
                await awaited.record_soon(principal=principal, action=action,
                                          resource=resource, decision=decision, at=now)  # fmt: skip
            else:  # a trail that only blocks (tests, tools): not in the loop's thread
                await asyncio.to_thread(blocking)
        except Exception as error:
            raise AuditUnavailableError(type(error).__name__) from None
        return self._disclosure(action, resource.connection_ean, decision)

    def _disclosure(self, action: Action, ean: str, decision: Decision) -> Disclosure:
        """The decided days' readings, once the decision is in the log; a denial raises."""
        if not decision.allowed:
            raise AccessDeniedError(decision)
        query = self._readings.daily if action is Action.READ_DAILY else self._readings.interval
        return Disclosure(decision, query(ean, decision.days))

    def read_for_subject_request(
        self,
        *,
        subject: Principal,
        officer: Principal,
        request_id: str,
        ean: str,
        first: date,
        last: date,
    ) -> Disclosure:
        """The subject's daily readings for their access export, run by the privacy officer.

        The days are decided by the subject's own rule (their own periods, as they would read
        them), so the officer's request can never disclose more than the person may see. The
        audit entry names the officer (role, organisation, pseudonym) under the data-subject
        request activity with the request as its case: the customer's access log shows "privacy
        office, A.5", not "you" (docs/decisions/0003, 0012).
        """
        if subject.role is not Role.CUSTOMER or officer.role is not Role.PRIVACY_OFFICER:
            raise ValueError("an access export is a privacy officer's, for a customer")
        now = self._clock()
        resource = Resource(parse_ean18(ean), first, last)
        bases = self._register.legal_bases()
        facts = self.facts(resource.connection_ean)
        own = decide(subject, Action.READ_DAILY, resource, CUSTOMER_OWN, now, facts, bases)
        basis = next(iter(bases.get(SUBJECT_REQUEST, ())), LegalBasis.LEGAL_OBLIGATION)
        reason = "access export for the data subject's own request, their own periods only"
        decision = replace(own, purpose=SUBJECT_REQUEST, reasons=(*own.reasons, reason),
                           legal_basis=basis if own.allowed else None,
                           case_id=request_id)  # fmt: skip
        self._audit.record(
            principal=officer, action=Action.READ_DAILY, resource=resource, decision=decision,
            at=now,
        )  # fmt: skip
        if not decision.allowed:
            raise AccessDeniedError(decision)
        return Disclosure(decision, self._readings.daily(resource.connection_ean, decision.days))
