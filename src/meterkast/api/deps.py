"""The services a request handler may call, and the principal behind the request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from meterkast.access.grant_service import GrantService
from meterkast.access.policy import Principal
from meterkast.access.ports import AccessLogReader, RegisterDocument, TokenVerifier
from meterkast.access.service import AccessService
from meterkast.api.readings_answer import authenticated
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock
from meterkast.parties.service import PartiesService

ACTIVITY = "x-meterkast-activity"  # the register activity a route is bound to


def bound(activity: str) -> dict[str, object]:
    """OpenAPI extra naming the register activity (or ``purpose-parameter``, or ``none: why``)."""
    return {ACTIVITY: activity}


@dataclass(frozen=True)
class Services:
    access: AccessService
    grants: GrantService
    grid: GridService
    parties: PartiesService
    tokens: TokenVerifier
    access_log: AccessLogReader
    register: RegisterDocument
    clock: Clock
    database: str


# Both dependencies are coroutines: FastAPI runs a plain function in the thread pool, and that
# hand-off (≈ 60 µs each) cost more than the work. The token check is CPU on a remembered token
# plus one primary-key lookup in the revocation list.
async def services(request: Request) -> Services:
    return _services(request)


def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


_bearer = HTTPBearer(auto_error=False, description="A token from `meterkast token issue`.")


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = None if credentials is None else credentials.credentials
    return authenticated(_services(request).tokens, token)


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
