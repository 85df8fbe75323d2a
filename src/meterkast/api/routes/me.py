"""The customer's own view: who accessed the data of their periods."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter

from meterkast.access.days import DayRange, DaySet
from meterkast.access.policy import CUSTOMER_OWN
from meterkast.api.deps import PrincipalDep, ServicesDep, bound
from meterkast.api.schemas import PROBLEM_RESPONSES, AccessLogEntry
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import Role

router = APIRouter(prefix="/api/v1/me", tags=["me"], responses=PROBLEM_RESPONSES)


@router.get("/access-log", openapi_extra=bound(CUSTOMER_OWN))
def access_log(who: PrincipalDep, svc: ServicesDep) -> list[AccessLogEntry]:
    """Every access, allowed or denied, to days of the caller's own contract periods."""
    if who.role is not Role.CUSTOMER:
        return []
    today = local_day(svc.clock())
    periods: dict[str, list[DayRange]] = {}
    for c in svc.parties.contracts_of_customer(who.party_id):
        last = min(c.end or today, today)
        if c.start <= last:
            periods.setdefault(c.connection_ean, []).append(DayRange(c.start, last))
    entries: list[Mapping[str, object]] = []
    for ean, ranges in periods.items():
        entries.extend(svc.access_log.entries_for(ean, DaySet.of(ranges)))
    return sorted((AccessLogEntry.model_validate(e) for e in entries), key=lambda e: e.at)
