"""Typed request and response bodies of the API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from meterkast.kernel.codes import GrantScope, GrantStatus, ReadingChoice


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str


class DayRangeOut(BaseModel):
    first: date
    last: date


class ReadingRow(BaseModel):
    """One reading: a daily register reading (``day``) or an interval value (``start``)."""

    day: date | None = None
    start: datetime | None = None
    import_t1_wh: int | None = None
    import_t2_wh: int | None = None
    export_t1_wh: int | None = None
    export_t2_wh: int | None = None
    volume_dm3: int | None = None
    captured_at: datetime | None = None
    value: int | None = None
    source: str
    quality: str
    version: int = 1


class ReadingsOut(BaseModel):
    ean: str
    purpose: str
    legal_basis: str
    policy_version: str
    days_disclosed: list[DayRangeOut]
    readings: list[ReadingRow]


class ReadingChoiceOut(BaseModel):
    ean: str
    choice: ReadingChoice
    effective_from: date | None
    explanation: str


class ReadingChoiceIn(BaseModel):
    choice: Literal["standard", "administratively_off"]


class GrantIn(BaseModel):
    connection_ean: str = Field(min_length=18, max_length=18)
    grantee: str = Field(min_length=13, max_length=13, description="EAN-13 of the party")
    scopes: list[GrantScope] = Field(min_length=1)
    purpose: str = Field(min_length=1, max_length=10)
    data_first: date
    data_last: date
    valid_until: datetime


class GrantOut(BaseModel):
    id: str
    connection_ean: str
    grantee: str
    scopes: list[GrantScope]
    purpose: str
    data_first: date
    data_last: date
    valid_from: datetime
    valid_until: datetime
    status: GrantStatus


class AccessLogEntry(BaseModel):
    at: datetime
    party: str
    role: str
    purpose: str | None
    action: str
    allowed: bool
    days: list[DayRangeOut]
    connection_ean: str


class Health(BaseModel):
    status: Literal["ok"]
    database: str


def _problem(description: str) -> dict[str, object]:
    return {
        "model": Problem,
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


# The problem answers (RFC 9457) every authenticated route may give.
PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    400: _problem("Malformed request: identifier, dates, purpose or body"),
    401: _problem("Missing, expired or forged bearer token"),
    403: _problem("The caller's role may not use that purpose"),
    404: _problem("Unknown, or not yours: the two cannot be told apart"),
    409: _problem("The change conflicts with the current state"),
}
