"""Mounting the portal into the API's FastAPI application: session, templates, routes.

The portal is server-rendered HTML without script. Sessions are Starlette's signed cookie
(HttpOnly, SameSite=Lax, 8 hours); every POST form carries a CSRF token from the session.
"""

from __future__ import annotations

import hmac
import inspect
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware

from meterkast.access.policy import Principal
from meterkast.access.ports import TokenIssuer
from meterkast.api.deps import Services
from meterkast.api.problems import status_of
from meterkast.kernel.codes import Role
from meterkast.kernel.errors import DomainError
from meterkast.web import i18n
from meterkast.web.accounts import LoginCodes, OAuthClients
from meterkast.web.oidc import OidcSettings

if TYPE_CHECKING:
    from meterkast.web.staff import StaffServices

SESSION_COOKIE = "meterkast_portal"
SESSION_SECONDS = 8 * 3600
LANG_COOKIE = "lang"
PORTAL_PATHS = ("/portal", "/oauth")
STAFF_PATHS = ("/portal/officer", "/portal/service", "/portal/staff")
SECURITY_HEADERS = {
    # Everything comes from this server; no script runs at all.
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class PortalSettings:
    secret_key: str
    login_codes: LoginCodes
    clients: OAuthClients
    issuer: TokenIssuer | None = None  # default: services.tokens when it can issue
    oidc: OidcSettings | None = None
    https_only: bool = True
    staff: StaffServices | None = None  # the privacy officer's and service staff's pages


class SignInRequiredError(DomainError):
    """No portal session: the customer is sent to the sign-in page."""

    code = "sign-in-required"


class StaffForbiddenError(DomainError):
    """Signed in, but not in the role the page is for (a customer on a staff page, or so)."""

    code = "forbidden"


_env = Environment(
    loader=PackageLoader("meterkast.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    return i18n.choose(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(csrf, expected):
        raise DomainError("the form has expired; reload the page and try again")


def customer(request: Request) -> Principal:
    found = request.session.get("customer")
    if not isinstance(found, str):
        raise SignInRequiredError("sign in first")
    return Principal(Role.CUSTOMER, found)


def sign_in(request: Request, customer_id: str) -> None:
    """A fresh session (new CSRF token) so nothing from before sign-in carries over."""
    request.session.clear()
    request.session["customer"] = customer_id
    request.session["csrf"] = secrets.token_urlsafe(24)


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def portal_of(request: Request) -> PortalSettings:
    found: PortalSettings = request.app.state.portal
    return found


CustomerDep = Annotated[Principal, Depends(customer)]
CsrfDep = Annotated[None, Depends(check_csrf)]
SvcDep = Annotated[Services, Depends(services_of)]
PortalDep = Annotated[PortalSettings, Depends(portal_of)]


def _with_lang(request: Request, lang: str) -> str:
    """This page in the other language, keeping its query (the consent screen needs it)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*query, ('lang', lang)])}"


def _staff_role(request: Request) -> str | None:
    found = request.session.get("staff")
    role = found.get("role") if isinstance(found, dict) else None
    return role if isinstance(role, str) else None


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    other = "en" if lang == "nl" else "nl"
    page = _env.get_template(name).render(
        request=request,
        lang=lang,
        t=i18n.translator(lang),
        csrf=csrf_token(request),
        signed_in=isinstance(request.session.get("customer"), str),
        staff_role=_staff_role(request),
        other_lang=other,
        lang_href=_with_lang(request, other),
        num=i18n.number(lang),
        **context,
    )
    response = HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def error_page(request: Request, error: DomainError) -> HTMLResponse:
    status, title = (
        (403, "Forbidden") if isinstance(error, StaffForbiddenError) else status_of(error)
    )
    return render(request, "error.html", status=status, title=title, detail=str(error))


def mount_portal(app: FastAPI, services: Services, settings: PortalSettings) -> None:
    """Add the portal's routes, static files and session to the application."""
    from meterkast.web import authorize, pages

    issuer = settings.issuer
    if issuer is None and isinstance(services.tokens, TokenIssuer):
        issuer = services.tokens
    app.state.portal = settings
    app.include_router(pages.router)
    if settings.staff is not None:
        from meterkast.web import officer, service_desk, staff

        app.include_router(staff.router)
        app.include_router(officer.router)
        app.include_router(service_desk.router)
    if issuer is not None:  # without an issuer there are no third-party apps
        app.include_router(authorize.router(settings.clients, issuer, services))
    if settings.oidc is not None:
        from meterkast.web import oidc
        from meterkast.web.staff import oidc_staff_sign_in

        staff_sign_in = oidc_staff_sign_in if settings.staff is not None else None
        app.include_router(oidc.router(settings.oidc, sign_in, staff_sign_in))
    app.mount(
        "/portal/static", StaticFiles(packages=[("meterkast.web", "static")]), name="portal-static"
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_SECONDS,
        same_site="lax",
        https_only=settings.https_only,
    )

    api_handler = app.exception_handlers[DomainError]

    async def _domain(request: Request, error: Exception) -> Response:
        """Portal pages answer in HTML (or send to sign-in); the API keeps its problems."""
        if isinstance(error, SignInRequiredError):
            if request.url.path.startswith(STAFF_PATHS):
                return RedirectResponse("/portal/staff/login", status_code=303)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/portal/login?next={quote(target, safe='')}", status_code=303)
        if request.url.path.startswith(PORTAL_PATHS) and isinstance(error, DomainError):
            return error_page(request, error)
        answer = api_handler(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    app.exception_handlers[DomainError] = _domain
