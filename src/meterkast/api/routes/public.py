"""Routes without personal data: health and the public processing register."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from meterkast.api.deps import ServicesDep, bound
from meterkast.api.schemas import Health

router = APIRouter()
NO_PERSONAL_DATA = "none: no personal data"


@router.get("/healthz", tags=["health"], openapi_extra=bound(NO_PERSONAL_DATA))
def healthz(svc: ServicesDep) -> Health:
    """Liveness: the application answers and knows its database."""
    return Health(status="ok", database=svc.database)


@router.get("/api/v1/register", tags=["register"], openapi_extra=bound(NO_PERSONAL_DATA))
def register_json(svc: ServicesDep) -> dict[str, Any]:
    """The processing register: every activity with its purpose and legal basis."""
    return dict(svc.register.as_json())


@router.get("/register", response_class=HTMLResponse, tags=["register"],
            openapi_extra=bound(NO_PERSONAL_DATA))  # fmt: skip
def register_html(svc: ServicesDep) -> HTMLResponse:
    """The processing register as a readable page."""
    return HTMLResponse(svc.register.as_html())
