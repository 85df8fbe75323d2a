"""Customer-service staff: look up a connection only through an open service case.

The look-up is the access layer's own decision (``AccessService.read`` with the staff
principal and the case's purpose), so it is audited like any read and shows in the customer's
access log as "staff service, customer service". Without an open case the answer is the one for
an unknown connection. Closing the case ends access at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterkast.access.policy import (
    SERVICE_PURPOSES,
    Action,
    CaseKind,
    Decision,
    Principal,
    retention_window,
)
from meterkast.access.service import AccessDeniedError
from meterkast.api.deps import Services, bound
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import Product
from meterkast.kernel.errors import DomainError, InvalidValueError, NotFoundError
from meterkast.web import charts, i18n
from meterkast.web.portal import CsrfDep, SvcDep, error_page, language, render
from meterkast.web.staff import ServiceStaffDep, StaffDep

router = APIRouter(tags=["portal-staff"], default_response_class=HTMLResponse)
PURPOSES = tuple(sorted(SERVICE_PURPOSES))
LOOKUP = "none: the look-up form shows no person"
CLOSE = "none: closes a case and shows nothing"
CASE = "case-purpose"  # the activity the case was opened for (1.4, 1.5 or 1.6)


@router.get("/portal/service", openapi_extra=bound(LOOKUP))
def service_home(request: Request, who: ServiceStaffDep, staff: StaffDep) -> HTMLResponse:
    mine = staff.cases.open_cases(CaseKind.SERVICE, who.party_id)
    return render(request, "service_home.html", purposes=PURPOSES, cases=mine)


@router.get("/portal/service/connection", openapi_extra=bound("purpose-parameter"))
def service_connection(
    request: Request,
    who: ServiceStaffDep,
    svc: SvcDep,
    ean: str = "",
    purpose: str = "",
) -> HTMLResponse:
    return _lookup(request, who, svc, ean.strip(), purpose)


@router.get("/portal/service/cases/{case_id}", openapi_extra=bound(CASE))
def service_case(
    request: Request, case_id: str, who: ServiceStaffDep, staff: StaffDep, svc: SvcDep
) -> HTMLResponse:
    """The look-up through one of the staff member's own open cases, for the case's activity."""
    try:
        case = staff.cases.open_case(case_id, CaseKind.SERVICE, who.party_id)
    except NotFoundError:  # the same answer as a look-up without a case
        return error_page(request, AccessDeniedError(Decision(False, None, None, ("no case",))))
    return _lookup(request, who, svc, case.connection_ean, case.purpose)


def _lookup(request: Request, who: Principal, svc: Services, ean: str,
            purpose: str) -> HTMLResponse:  # fmt: skip
    today = local_day(svc.clock())
    first = retention_window(today).ranges[0].first
    try:
        if purpose not in SERVICE_PURPOSES:
            raise InvalidValueError("choose the purpose of the case: " + ", ".join(PURPOSES))
        disclosure = svc.access.read(who, Action.READ_DAILY, ean, first, today, purpose)
        connection = svc.grid.get_connection(ean)
    except DomainError as error:
        return error_page(request, error)
    decision = disclosure.decision
    lang = language(request)
    t, num = i18n.translator(lang), i18n.number(lang)
    gas = connection.product is Product.GAS
    unit = "m³" if gas else "kWh"
    months = charts.monthly_usage(charts.daily_usage(disclosure.rows))
    bars = [
        charts.Bar(f"{u.period:%Y-%m}", u.import_wh / 1000,
                   f"{u.period:%Y-%m}: {num(u.import_wh / 1000)} {unit}")
        for u in months
    ]  # fmt: skip
    what = t("gas_use" if gas else "consumption")
    svg = charts.bar_chart(bars, chart_id="chart-service", title=f"{what} {t('per_month')}",
                           desc=t("service_chart_desc", unit=unit), unit=unit,
                           kind="consumption", number=num)  # fmt: skip
    return render(request, "service_connection.html", connection=connection, svg=svg,
                  bars=bars, days=decision.days.ranges, case_id=decision.case_id,
                  purpose=purpose, unit=unit)  # fmt: skip


@router.post("/portal/service/cases/{case_id}/close", openapi_extra=bound(CLOSE))
def close_case(
    request: Request,
    case_id: str,
    who: ServiceStaffDep,
    staff: StaffDep,
    svc: SvcDep,
    _: CsrfDep,
    ean: Annotated[str, Form()],
) -> Response:
    try:
        open_here = {c.id for c in staff.cases.facts_for(ean.strip())
                     if c.open and c.kind is CaseKind.SERVICE}  # fmt: skip
        if case_id not in open_here:
            raise NotFoundError("no open case with that id")
        staff.cases.close(case_id, svc.clock())
    except DomainError as error:
        return error_page(request, error)
    return RedirectResponse("/portal/service?closed=1", status_code=303)
