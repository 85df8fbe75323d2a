"""Readings of one connection, disclosed per decision of the access policy."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from meterkast.access.policy import Action
from meterkast.api.deps import PrincipalDep, ServicesDep, bound
from meterkast.api.encode import readings_response
from meterkast.api.schemas import PROBLEM_RESPONSES, ReadingsOut

router = APIRouter(prefix="/api/v1/connections", tags=["readings"], responses=PROBLEM_RESPONSES)

From = Annotated[date | None, Query(alias="from", description="First day (inclusive).")]
To = Annotated[date | None, Query(alias="to", description="Last day (inclusive).")]
Purpose = Annotated[str | None, Query(description="Register activity id, e.g. 3.4 or A.1.")]


# The answers are written by api/encode.py (the documented schema is still ReadingsOut).
@router.get("/{ean}/readings/daily", response_model=ReadingsOut,
            openapi_extra=bound("purpose-parameter"))  # fmt: skip
def daily(ean: str, who: PrincipalDep, svc: ServicesDep, first: From = None, last: To = None,
          purpose: Purpose = None) -> Response:  # fmt: skip
    """Daily register readings (00:00) of the days the caller may see for this purpose."""
    disclosure = svc.access.read(who, Action.READ_DAILY, ean, first, last, purpose)
    return readings_response(ean, disclosure)


@router.get("/{ean}/readings/interval", response_model=ReadingsOut,
            openapi_extra=bound("purpose-parameter"))  # fmt: skip
def interval(ean: str, who: PrincipalDep, svc: ServicesDep, first: From = None,
             last: To = None, purpose: Purpose = None) -> Response:  # fmt: skip
    """Interval data (15 min electricity, 1 h gas), only where an interval grant exists."""
    disclosure = svc.access.read(who, Action.READ_INTERVAL, ean, first, last, purpose)
    return readings_response(ean, disclosure)
