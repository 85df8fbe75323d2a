"""Readings of one connection, disclosed per decision of the access policy."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from meterkast.access.policy import Action
from meterkast.access.service import Disclosure
from meterkast.api.deps import PrincipalDep, ServicesDep, bound
from meterkast.api.schemas import PROBLEM_RESPONSES, DayRangeOut, ReadingRow, ReadingsOut

router = APIRouter(prefix="/api/v1/connections", tags=["readings"], responses=PROBLEM_RESPONSES)

From = Annotated[date | None, Query(alias="from", description="First day (inclusive).")]
To = Annotated[date | None, Query(alias="to", description="Last day (inclusive).")]
Purpose = Annotated[str | None, Query(description="Register activity id, e.g. 3.4 or A.1.")]


def _out(ean: str, disclosure: Disclosure) -> ReadingsOut:
    d = disclosure.decision
    return ReadingsOut(
        ean=ean,
        purpose=d.purpose or "",
        legal_basis=d.legal_basis.value if d.legal_basis else "",
        policy_version=d.policy_version,
        days_disclosed=[DayRangeOut(first=r.first, last=r.last) for r in d.days.ranges],
        readings=[ReadingRow.model_validate(row) for row in disclosure.rows],
    )


@router.get("/{ean}/readings/daily", openapi_extra=bound("purpose-parameter"))
def daily(ean: str, who: PrincipalDep, svc: ServicesDep, first: From = None, last: To = None,
          purpose: Purpose = None) -> ReadingsOut:  # fmt: skip
    """Daily register readings (00:00) of the days the caller may see for this purpose."""
    return _out(ean, svc.access.read(who, Action.READ_DAILY, ean, first, last, purpose))


@router.get("/{ean}/readings/interval", openapi_extra=bound("purpose-parameter"))
def interval(ean: str, who: PrincipalDep, svc: ServicesDep, first: From = None,
             last: To = None, purpose: Purpose = None) -> ReadingsOut:  # fmt: skip
    """Interval data (15 min electricity, 1 h gas), only where an interval grant exists."""
    return _out(ean, svc.access.read(who, Action.READ_INTERVAL, ean, first, last, purpose))
