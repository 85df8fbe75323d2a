"""Errors as RFC 9457 problem details, mapped once for the whole API."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from meterkast.access.policy import Denial
from meterkast.access.service import AccessDeniedError
from meterkast.kernel.errors import (
    ConflictError,
    DomainError,
    InvalidCodeError,
    InvalidValueError,
    NotFoundError,
    UnauthenticatedError,
)

MEDIA_TYPE = "application/problem+json"
_STATUS: list[tuple[type[DomainError], int, str]] = [
    (UnauthenticatedError, 401, "Unauthenticated"),
    (InvalidCodeError, 400, "Malformed identifier"),
    (InvalidValueError, 400, "Invalid value"),
    (NotFoundError, 404, "Not found"),
    (ConflictError, 409, "Conflict"),
]
_DENIAL = {
    Denial.BAD_REQUEST: (400, "Bad request"),
    Denial.PURPOSE_NOT_ALLOWED: (403, "Purpose not allowed"),
    Denial.NO_ACCESS: (404, "Not found"),
}


def problem(status: int, title: str, detail: str, instance: str, kind: str) -> JSONResponse:
    body = {
        "type": f"https://meterkast.invalid/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="meterkast"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: DomainError) -> tuple[int, str]:
    if isinstance(error, AccessDeniedError):
        return _DENIAL[error.decision.denial or Denial.NO_ACCESS]
    for kind, status, title in _STATUS:
        if isinstance(error, kind):
            return status, title
    return 400, "Bad request"


def domain_problem(error: DomainError, instance: str) -> JSONResponse:
    """The problem answer for a refused request (also written by the readings fast path)."""
    status, title = status_of(error)
    kind = "not-found" if status == 404 else error.code
    return problem(status, title, str(error), instance, kind)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_problem(error, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
        )
        return problem(400, "Invalid request", fields, request.url.path, "invalid-request")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), str(error.detail),
                       request.url.path, f"http-{error.status_code}")  # fmt: skip
