"""The readings routes answered in the event loop, before FastAPI routes the request.

Served, a history request spent more time in FastAPI's routing, dependency resolution and
parameter validation, and in the thread-pool hand-off (its Python work then contending for the
GIL with the loop), than in its own work (docs/decisions/0016). The application recognises the
two readings GETs before its middleware stack (none of which does anything for them: the
portal's session middleware only wraps ``send``; 0.1 ms per request served) and answers them
here: path and query parsed here, then the same
``readings_answer`` the FastAPI routes call. It only takes requests whose every part it can read
exactly as FastAPI would (a plain path segment, dates written YYYY-MM-DD, no repeated parameter,
no root path); anything else goes on to the FastAPI routes, which stay the documented reference
and answer those (e.g. a malformed date's 400) themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from meterkast.access.policy import Action
from meterkast.api.deps import Services
from meterkast.api.problems import domain_problem
from meterkast.api.readings_answer import authenticated, bearer_token, readings_answer
from meterkast.kernel.errors import DomainError

_ROUTE = re.compile(r"/api/v1/connections/([A-Za-z0-9._~-]+)/readings/(daily|interval)")
_ACTIONS = {"daily": Action.READ_DAILY, "interval": Action.READ_INTERVAL}
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PARAMETERS = {"from", "to", "purpose"}


@dataclass(frozen=True, slots=True)
class ReadingsRequest:
    action: Action
    ean: str
    authorization: str | None
    first: date | None
    last: date | None
    purpose: str | None
    path: str  # the problem's ``instance``


def parsed(scope: Scope) -> ReadingsRequest | None:
    """The request's parts, or None where FastAPI's routes should answer it."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    route = _ROUTE.fullmatch(path)
    if route is None:
        return None
    # As Starlette reads a query; FastAPI would take the last of a repeated one: leave those.
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs):
        return None
    try:
        first, last = _day(query.get("from")), _day(query.get("to"))
    except ValueError:  # FastAPI's validation writes that 400 (not a decision: not audited)
        return None
    authorization = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
            break
    return ReadingsRequest(_ACTIONS[route[2]], route[1], authorization, first, last,
                           query.get("purpose"), path)  # fmt: skip


def _day(text: str | None) -> date | None:
    """The day, or None if absent; ValueError unless written YYYY-MM-DD (pydantic reads more
    forms, and only it should answer those)."""
    if text is None:
        return None
    if _DAY.fullmatch(text) is None:
        raise ValueError("not YYYY-MM-DD")
    return date.fromisoformat(text)


class ReadingsPath:
    """The readings GETs answered before the application's middleware and routing (see
    :class:`meterkast.api.app.MeterkastAPI`); every other request is not looked at here."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def respond(self, request: ReadingsRequest, scope: Scope, receive: Receive,
                      send: Send) -> None:  # fmt: skip
        response = await self.answer(request)
        await response(scope, receive, send)

    async def answer(self, request: ReadingsRequest) -> Response:
        try:  # as the routes' principal dependency: 401 before anything else is looked at
            who = authenticated(self._services.tokens, bearer_token(request.authorization))
        except DomainError as error:
            return domain_problem(error, request.path)
        return await readings_answer(self._services.access, who, request.action, request.ean,
                                     request.first, request.last, request.purpose,
                                     request.path)  # fmt: skip
