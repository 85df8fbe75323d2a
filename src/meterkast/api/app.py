"""The FastAPI application factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from meterkast import __version__
from meterkast.api import problems
from meterkast.api.deps import Services
from meterkast.api.readings_path import ReadingsPath
from meterkast.api.routes import choice, grants, me, public, readings

if TYPE_CHECKING:
    from meterkast.web.portal import PortalSettings


def create_app(
    services: Services, portal: PortalSettings | None = None, *, readings_in_loop: bool = True
) -> FastAPI:
    """The API; with ``portal`` settings also the customer portal and the OAuth endpoints.

    ``readings_in_loop=False`` leaves the readings GETs to their FastAPI routes (the reference
    the fast path is tested against).
    """
    app = FastAPI(
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
    # Added before the portal's session middleware, so it runs inside it as the routes do.
    if readings_in_loop:
        app.add_middleware(ReadingsPath, services=services)
    if portal is not None:
        from meterkast.web.portal import mount_portal

        mount_portal(app, services, portal)
    return app
