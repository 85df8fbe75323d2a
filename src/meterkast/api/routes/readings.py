"""Readings of one connection, disclosed per decision of the access policy.

These routes are the documented reference: the event-loop fast path (``api/readings_path.py``)
answers the same requests before FastAPI routes them, and both call ``readings_answer``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from meterkast.access.policy import Action
from meterkast.api.deps import PrincipalDep, ServicesDep, bound
from meterkast.api.readings_answer import readings_answer
from meterkast.api.schemas import PROBLEM_RESPONSES, ReadingsOut

router = APIRouter(prefix="/api/v1/connections", tags=["readings"], responses=PROBLEM_RESPONSES)

From = Annotated[date | None, Query(alias="from", description="First day (inclusive).")]
To = Annotated[date | None, Query(alias="to", description="Last day (inclusive).")]
Purpose = Annotated[str | None, Query(description="Register activity id, e.g. 3.4 or A.1.")]


# The answers are written by api/encode.py (the documented schema is still ReadingsOut).
@router.get("/{ean}/readings/daily", response_model=ReadingsOut,
            openapi_extra=bound("purpose-parameter"))  # fmt: skip
async def daily(request: Request, ean: str, who: PrincipalDep, svc: ServicesDep,
                first: From = None, last: To = None,
                purpose: Purpose = None) -> Response:  # fmt: skip
    """Daily register readings (00:00) of the days the caller may see for this purpose."""
    return await readings_answer(svc.access, who, Action.READ_DAILY, ean, first, last, purpose,
                                 request.url.path)  # fmt: skip


@router.get("/{ean}/readings/interval", response_model=ReadingsOut,
            openapi_extra=bound("purpose-parameter"))  # fmt: skip
async def interval(request: Request, ean: str, who: PrincipalDep, svc: ServicesDep,
                   first: From = None, last: To = None,
                   purpose: Purpose = None) -> Response:  # fmt: skip
    """Interval data (15 min electricity, 1 h gas), only where an interval grant exists."""
    return await readings_answer(svc.access, who, Action.READ_INTERVAL, ean, first, last,
                                 purpose, request.url.path)  # fmt: skip
