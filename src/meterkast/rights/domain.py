"""Data-subject requests (GDPR art. 12-21) as a small state machine with its deadline (pure)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from meterkast.kernel.errors import ConflictError, InvalidValueError


class RequestKind(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"
    CONSENT_WITHDRAWAL = "consent_withdrawal"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REFUSED = "refused"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


@dataclass(frozen=True, slots=True)
class SubjectRequest:
    id: str
    customer_id: str
    kind: RequestKind
    status: RequestStatus
    received_on: date
    deadline: date  # one month (art. 12(3)); at most two more with a recorded reason
    note: str = ""
    closed_on: date | None = None

    @classmethod
    def receive(cls, id: str, customer_id: str, kind: RequestKind, on: date) -> SubjectRequest:
        return cls(id, customer_id, kind, RequestStatus.RECEIVED, on, add_months(on, 1))

    def start(self) -> SubjectRequest:
        self._open("start")
        return replace(self, status=RequestStatus.IN_PROGRESS)

    def extend(self, months: int, reason: str) -> SubjectRequest:
        self._open("extend")
        if not reason.strip():
            raise InvalidValueError("an extension needs its reason, told to the person")
        if add_months(self.deadline, months) > add_months(self.received_on, 3) or months < 1:
            raise InvalidValueError("the deadline may be extended by two months at most")
        return replace(self, deadline=add_months(self.deadline, months), note=reason.strip())

    def complete(self, on: date, note: str = "") -> SubjectRequest:
        self._open("complete")
        return replace(self, status=RequestStatus.DONE, closed_on=on, note=note or self.note)

    def refuse(self, on: date, reason: str) -> SubjectRequest:
        self._open("refuse")
        if not reason.strip():
            raise InvalidValueError("a refusal states its reason")
        return replace(self, status=RequestStatus.REFUSED, closed_on=on, note=reason.strip())

    def overdue(self, today: date) -> bool:
        return self.closed_on is None and today > self.deadline

    def _open(self, action: str) -> None:
        if self.status in {RequestStatus.DONE, RequestStatus.REFUSED}:
            raise ConflictError(f"cannot {action} a request that is {self.status.value}")
