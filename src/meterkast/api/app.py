"""The FastAPI application factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from meterkast import __version__
from meterkast.api import problems
from meterkast.api.deps import Services
from meterkast.api.readings_path import ReadingsPath, parsed
from meterkast.api.routes import choice, grants, me, public, readings

if TYPE_CHECKING:
    from meterkast.web.portal import PortalSettings


class MeterkastAPI(FastAPI):
    """FastAPI, with the readings GETs answered before the middleware stack and routing when
    ``readings_path`` is set (docs/decisions/0016)."""

    readings_path: ReadingsPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.readings_path
        if fast is not None and (request := parsed(scope)) is not None:
            await fast.respond(request, scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    services: Services, portal: PortalSettings | None = None, *, readings_in_loop: bool = True
) -> FastAPI:
    """The API; with ``portal`` settings also the customer portal and the OAuth endpoints.

    ``readings_in_loop=False`` leaves the readings GETs to their FastAPI routes (the reference
    the fast path is tested against).
    """
    app = MeterkastAPI(
        title="meterkast",
        version=__version__,
        description="Purpose-bound access to smart-meter data of a Dutch grid operator. Every "
        "request that touches personal data names a purpose (a register activity) and is "
        "decided, then written to a tamper-evident audit log the customer can read.",
    )
    app.state.services = services
    problems.install(app)
    for module in (public, readings, choice, grants, me):
        app.include_router(module.router)
    if readings_in_loop:
        app.readings_path = ReadingsPath(services)
    if portal is not None:
        from meterkast.web.portal import mount_portal

        mount_portal(app, services, portal)
    return app
