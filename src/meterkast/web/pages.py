"""The customer's pages: connections, charts, downloads, reading choice, grants, access log.

Readings come only through ``services.access.read`` with purpose A.1, so each view is decided
and audited exactly like an API read; the reading choice goes through the same decision as the
API's reading-choice route (purpose 1.2); grants via the grant service (A.3).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterkast.access.grant_service import utc
from meterkast.access.policy import (
    CUSTOMER_OWN,
    READING_CHOICE,
    THIRD_PARTY_SERVICE,
    Action,
    retention_window,
)
from meterkast.api.deps import bound
from meterkast.api.routes import choice as api_choice
from meterkast.api.routes import me as api_me
from meterkast.exports import to_csv, to_espi
from meterkast.kernel.clock import AMSTERDAM, local_day
from meterkast.kernel.codes import GrantScope, Product, ReadingChoice
from meterkast.kernel.errors import DomainError
from meterkast.web import charts, i18n
from meterkast.web.portal import (
    CsrfDep,
    CustomerDep,
    PortalDep,
    SvcDep,
    error_page,
    language,
    render,
    sign_in,
)

router = APIRouter(tags=["portal"], default_response_class=HTMLResponse)
SIGN_IN = "none: authentication, no personal data until signed in"


def _safe_next(target: str) -> str:
    """Only a path on this site: an open redirect would help phishing."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/portal/connections"


@router.get("/portal", openapi_extra=bound(SIGN_IN))
def portal_home() -> Response:
    return RedirectResponse("/portal/connections", status_code=303)


@router.get("/portal/login", openapi_extra=bound(SIGN_IN))
def login_page(request: Request, next: str = "/portal/connections", error: int = 0) -> HTMLResponse:
    return render(
        request,
        "login.html",
        next=_safe_next(next),
        error=bool(error),
        oidc=request.app.state.portal.oidc is not None,
    )


@router.post("/portal/login", openapi_extra=bound(SIGN_IN))
def login(
    request: Request,
    _: CsrfDep,
    portal: PortalDep,
    customer_id: Annotated[str, Form()],
    code: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/portal/connections",
) -> Response:
    who = customer_id.strip().upper()
    if who and portal.login_codes.redeem(who, code):
        sign_in(request, who)
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(
        request,
        "login.html",
        status=401,
        next=_safe_next(next),
        error=True,
        oidc=portal.oidc is not None,
    )


@router.post("/portal/logout", openapi_extra=bound(SIGN_IN))
def logout(request: Request, _: CsrfDep) -> Response:
    request.session.clear()
    return RedirectResponse("/portal/login", status_code=303)


@router.get("/portal/connections", openapi_extra=bound(CUSTOMER_OWN))
def connections(request: Request, who: CustomerDep, svc: SvcDep) -> HTMLResponse:
    today = local_day(svc.clock())
    rows = []
    for contract in svc.parties.contracts_of_customer(who.party_id):
        if contract.start > today:
            continue
        connection = svc.grid.get_connection(contract.connection_ean)
        rows.append(
            {
                "ean": connection.ean,
                "address": connection.address.label,
                "product": connection.product.value,
                "start": contract.start,
                "end": contract.end,
            }
        )
    return render(request, "connections.html", connections=rows)


def _read(svc: SvcDep, who: CustomerDep, ean: str) -> tuple[date, date, list[dict[str, object]]]:
    today = local_day(svc.clock())
    first = retention_window(today).ranges[0].first
    disclosure = svc.access.read(who, Action.READ_DAILY, ean, first, today, CUSTOMER_OWN)
    days = disclosure.decision.days.ranges
    return days[0].first, days[-1].last, [dict(r) for r in disclosure.rows]


def _choice(svc: SvcDep, who: CustomerDep, ean: str) -> dict[str, object]:
    today = local_day(svc.clock())
    decision = svc.access.decide(who, Action.READ_CHOICE, ean, today, today, READING_CHOICE)
    if not decision.allowed:
        return {"mine": False}
    current = api_choice._out(svc, ean).choice  # what the API would answer
    return {
        "mine": True,
        "current": current,
        "off": current == ReadingChoice.STANDARD.value,
        "switchable": current != ReadingChoice.NO_SMART_METER.value,
    }


@router.get("/portal/connections/{ean}", openapi_extra=bound(CUSTOMER_OWN))
def connection(
    request: Request,
    ean: str,
    who: CustomerDep,
    svc: SvcDep,
    view: Annotated[str, Query(pattern="^(month|day)$")] = "month",
) -> HTMLResponse:
    try:
        first, last, rows = _read(svc, who, ean)
        reading_choice = _choice(svc, who, ean)
    except DomainError as error:
        return error_page(request, error)
    lang = language(request)
    t, num = i18n.translator(lang), i18n.number(lang)
    gas = _is_gas(svc, ean)
    unit = "m³" if gas else "kWh"
    daily = charts.daily_usage(rows)
    usage = daily if view == "day" else charts.monthly_usage(daily)
    pattern = "%Y-%m-%d" if view == "day" else "%Y-%m"

    def label(day: date) -> str:
        return day.strftime(pattern)

    per = t("per_day") if view == "day" else t("per_month")
    series = []
    kinds = (
        (("gas_use", "import_wh"),)
        if gas
        else (("consumption", "import_wh"), ("feed_in", "export_wh"))
    )
    for key, attr in kinds:
        values = [getattr(u, attr) / 1000 for u in usage]
        if key == "feed_in" and not any(values):
            continue  # no feed-in at this connection: no empty chart
        bars = [
            charts.Bar(label(u.period), v, f"{label(u.period)}: {num(v)} {unit}")
            for u, v in zip(usage, values, strict=True)
        ]
        desc = t("chart_desc", what=t(key), unit=unit, per=per, first=first, last=last)
        svg = charts.bar_chart(
            bars,
            chart_id=f"chart-{key}",
            title=f"{t(key)} {per}",
            desc=desc,
            unit=unit,
            kind="consumption" if key == "gas_use" else key,
            number=num,
        )
        series.append({"key": key, "svg": svg, "bars": bars})
    return render(
        request,
        "connection.html",
        ean=ean,
        view=view,
        series=series,
        first=first,
        last=last,
        has_data=bool(usage),
        choice=reading_choice,
        unit=unit,
    )


def _is_gas(svc: SvcDep, ean: str) -> bool:
    """Asked only after the access decision allowed the read (so nothing leaks)."""
    return svc.grid.get_connection(ean).product is Product.GAS


def _download(svc: SvcDep, who: CustomerDep, ean: str, kind: str) -> Response:
    _, _, rows = _read(svc, who, ean)
    gas = _is_gas(svc, ean)
    if kind == "csv":
        body, media = to_csv(ean, rows, gas=gas), "text/csv; charset=utf-8"
    else:
        feed = to_espi(ean, rows, generated_at=svc.clock(), gas=gas)
        body, media = feed, "application/atom+xml"
    name = f"meterstanden-{ean}.{kind}"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/portal/connections/{ean}/readings.csv", openapi_extra=bound(CUSTOMER_OWN))
def download_csv(request: Request, ean: str, who: CustomerDep, svc: SvcDep) -> Response:
    try:
        return _download(svc, who, ean, "csv")
    except DomainError as error:
        return error_page(request, error)


@router.get("/portal/connections/{ean}/readings.xml", openapi_extra=bound(CUSTOMER_OWN))
def download_espi(request: Request, ean: str, who: CustomerDep, svc: SvcDep) -> Response:
    try:
        return _download(svc, who, ean, "xml")
    except DomainError as error:
        return error_page(request, error)


@router.post("/portal/connections/{ean}/reading-choice", openapi_extra=bound(READING_CHOICE))
def change_choice(
    request: Request,
    ean: str,
    who: CustomerDep,
    svc: SvcDep,
    _: CsrfDep,
    choice: Annotated[str, Form()],
) -> Response:
    try:
        wanted = ReadingChoice(choice)
        if wanted is ReadingChoice.NO_SMART_METER:
            raise DomainError("choose standard or administratively off")
        api_choice._check(svc, who, ean, Action.CHANGE_CHOICE)  # the API's own decision
        svc.grid.choose_reading(ean, wanted, local_day(svc.clock()))
    except (DomainError, ValueError) as error:
        problem = error if isinstance(error, DomainError) else DomainError("unknown choice")
        return error_page(request, problem)
    return RedirectResponse(f"/portal/connections/{ean}#choice", status_code=303)


@router.get("/portal/grants", openapi_extra=bound(THIRD_PARTY_SERVICE))
def grants(request: Request, who: CustomerDep, svc: SvcDep) -> HTMLResponse:
    now = svc.clock()
    today = local_day(now)
    mine = svc.grants.of_customer(who.party_id, now)
    names = {}
    for g in mine:
        try:
            names[g.grantee] = svc.parties.get_party(g.grantee).name
        except DomainError:
            names[g.grantee] = g.grantee
    current = [
        c.connection_ean
        for c in svc.parties.contracts_of_customer(who.party_id)
        if c.start <= today and (c.end is None or today <= c.end)
    ]
    return render(
        request,
        "grants.html",
        grants=mine,
        names=names,
        connections=current,
        first=retention_window(today).ranges[0].first,
        today=today,
    )


@router.post("/portal/grants", openapi_extra=bound(THIRD_PARTY_SERVICE))
def give_grant(
    request: Request,
    who: CustomerDep,
    svc: SvcDep,
    _: CsrfDep,
    connection_ean: Annotated[str, Form()],
    grantee: Annotated[str, Form()],
    data_first: Annotated[date, Form()],
    data_last: Annotated[date, Form()],
    scopes: Annotated[list[GrantScope], Form()],
    valid_days: Annotated[int, Form(ge=1, le=1095)] = 365,
) -> Response:
    now = svc.clock()
    try:
        svc.grants.give(
            customer_id=who.party_id,
            connection_ean=connection_ean,
            grantee=grantee.strip(),
            scopes=scopes,
            purpose=THIRD_PARTY_SERVICE,
            data_first=data_first,
            data_last=data_last,
            valid_until=now + timedelta(days=valid_days),
            now=now,
        )
    except DomainError as error:
        return error_page(request, error)
    return RedirectResponse("/portal/grants", status_code=303)


@router.post("/portal/grants/{grant_id}/withdraw", openapi_extra=bound(THIRD_PARTY_SERVICE))
def withdraw_grant(
    request: Request, grant_id: str, who: CustomerDep, svc: SvcDep, _: CsrfDep
) -> Response:
    try:
        svc.grants.revoke(who.party_id, grant_id, svc.clock())
    except DomainError as error:
        return error_page(request, error)
    return RedirectResponse("/portal/grants", status_code=303)


@router.get("/portal/access-log", openapi_extra=bound(CUSTOMER_OWN))
def access_log(request: Request, who: CustomerDep, svc: SvcDep) -> HTMLResponse:
    entries = sorted(api_me.access_log(who, svc), key=lambda e: e.at, reverse=True)
    names: dict[str, str] = {}
    for e in entries:
        if e.party not in names and e.role in {"supplier", "third_party"}:
            try:
                names[e.party] = svc.parties.get_party(e.party).name
            except DomainError:
                names[e.party] = e.party
    return render(
        request, "access_log.html", entries=entries, names=names, me=who.party_id, local=_local
    )


def _local(moment: datetime) -> str:
    """Dutch wall-clock time: what the customer's own clock showed at the access."""
    return utc(moment).astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")
