"""The customer's reading choice: see it, and switch remote reading off or on, free of charge."""

from __future__ import annotations

from fastapi import APIRouter

from meterkast.access.policy import READING_CHOICE, Action, Principal
from meterkast.access.service import AccessDeniedError
from meterkast.api.deps import PrincipalDep, Services, ServicesDep, bound
from meterkast.api.schemas import PROBLEM_RESPONSES, ReadingChoiceIn, ReadingChoiceOut
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import ReadingChoice

router = APIRouter(
    prefix="/api/v1/connections", tags=["reading choice"], responses=PROBLEM_RESPONSES
)

EXPLANATION = {
    ReadingChoice.STANDARD: "Your meter sends its 00:00 readings each day; they are kept for "
    "24 months and used only for billing, switching, moving and grid tasks.",
    ReadingChoice.ADMINISTRATIVELY_OFF: "Your meter is not read remotely for consumption. You "
    "pass readings yourself when you move, switch or get your yearly bill.",
    ReadingChoice.NO_SMART_METER: "There is no smart meter here: readings come from you.",
}


def _check(svc: Services, who: Principal, ean: str, action: Action) -> None:
    today = local_day(svc.clock())
    decision = svc.access.decide(who, action, ean, today, today, READING_CHOICE)
    if not decision.allowed:
        raise AccessDeniedError(decision)


def _out(svc: Services, ean: str) -> ReadingChoiceOut:
    connection = svc.grid.get_connection(ean)
    today = local_day(svc.clock())
    choice = connection.reading_choice(today)
    since = max((c.effective_from for c in connection.reading_choices
                 if c.effective_from <= today), default=None)  # fmt: skip
    return ReadingChoiceOut(ean=connection.ean, choice=choice, effective_from=since,
                            explanation=EXPLANATION[choice])  # fmt: skip


@router.get("/{ean}/reading-choice", openapi_extra=bound(READING_CHOICE))
def get_choice(ean: str, who: PrincipalDep, svc: ServicesDep) -> ReadingChoiceOut:
    """The reading choice in force today (only for the customer supplied here today)."""
    _check(svc, who, ean, Action.READ_CHOICE)
    return _out(svc, ean)


@router.put("/{ean}/reading-choice", openapi_extra=bound(READING_CHOICE))
def put_choice(ean: str, body: ReadingChoiceIn, who: PrincipalDep,
               svc: ServicesDep) -> ReadingChoiceOut:  # fmt: skip
    """Switch remote reading off (administratively off) or back on; takes effect today."""
    _check(svc, who, ean, Action.CHANGE_CHOICE)
    svc.grid.choose_reading(ean, ReadingChoice(body.choice), local_day(svc.clock()))
    return _out(svc, ean)
