"""The answer to a readings request, once its HTTP parts are parsed: one function, two callers.

The FastAPI routes (``routes/readings.py``, the documented reference) and the event-loop fast
path (``readings_path.py``) both end here, so status, headers and body cannot drift apart; the
token check the routes get from their dependency is :func:`authenticated` here too.
"""

from __future__ import annotations

import logging
from datetime import date

from starlette.responses import Response

from meterkast.access.policy import Action, Principal
from meterkast.access.ports import TokenVerifier
from meterkast.access.service import AccessService, AuditUnavailableError
from meterkast.api.encode import readings_response
from meterkast.api.problems import domain_problem, problem
from meterkast.kernel.errors import DomainError, UnauthenticatedError

log = logging.getLogger(__name__)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, read as FastAPI's ``HTTPBearer``
    (``auto_error=False``) reads it; None where there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if not (scheme and token) or scheme.lower() != "bearer":
        return None
    return token


def authenticated(tokens: TokenVerifier, token: str | None) -> Principal:
    """The caller behind a bearer token; UnauthenticatedError (401) otherwise."""
    if token is None:
        raise UnauthenticatedError("a bearer token is required")
    return tokens.verify(token)


async def readings_answer(
    access: AccessService,
    who: Principal,
    action: Action,
    ean: str,
    first: date | None,
    last: date | None,
    purpose: str | None,
    instance: str,
) -> Response:
    """Decide, await the audit commit, read and write the answer (or its problem)."""
    try:
        disclosure = await access.answer_async(who, action, ean, first, last, purpose)
    except DomainError as error:
        return domain_problem(error, instance)
    except AuditUnavailableError as error:  # its text is the error type only
        log.error("readings request refused: audit log unavailable (%s)", error)
        return problem(500, "Audit log unavailable",
                       "the request could not be recorded, so nothing was disclosed",
                       instance, "audit-unavailable")  # fmt: skip
    return readings_response(ean, disclosure)
