"""Readings answers straight to JSON bytes, in the shape the OpenAPI document declares.

A 24-month history is 730 rows. Validating each through ``ReadingRow`` and then letting FastAPI
validate and serialise the whole answer again cost ≈ 2 ms a request. The store's rows come as
an Arrow table that writes its own JSON from the columns (:class:`JsonRows`, ≈ 0.3 ms, no Python
object per value) once its column names and types fit the schema (:data:`READING_KINDS`, checked
per column, not per value). Any other rows are validated through pydantic, which refuses a row
that breaks the schema. Both leave out fields that do not apply (an electricity day has no
``volume_dm3``) rather than writing null. ``tests/unit/test_api_encode.py`` and
``tests/unit/test_arrow_rows.py`` hold both to what ``ReadingsOut`` itself would produce.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import cast

import orjson
from fastapi import Response
from pydantic import TypeAdapter

from meterkast.access.ports import READING_FIELDS, READING_KINDS, READING_REQUIRED, JsonRows
from meterkast.access.service import Disclosure
from meterkast.api.schemas import ReadingRow

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC  # the store's times are UTC
_ROWS = TypeAdapter(list[ReadingRow])


def readings_response(ean: str, disclosure: Disclosure) -> Response:
    return Response(readings_json(ean, disclosure), media_type="application/json")


def readings_json(ean: str, disclosure: Disclosure) -> bytes:
    d = disclosure.decision
    head: dict[str, object] = {
        "ean": ean,
        "purpose": d.purpose or "",
        "legal_basis": d.legal_basis.value if d.legal_basis else "",
        "policy_version": d.policy_version,
        "days_disclosed": [{"first": r.first, "last": r.last} for r in d.days.ranges],
    }
    rows = disclosure.rows
    if _writes_json(type(rows)):
        written = cast(JsonRows, rows).json_array(READING_KINDS, READING_REQUIRED)
        if written is not None:
            return orjson.dumps({**head, "readings": orjson.Fragment(written)}, option=_OPTIONS)
    return orjson.dumps({**head, "readings": checked_rows(rows)}, option=_OPTIONS)


@functools.cache
def _writes_json(kind: type) -> bool:
    """Whether rows of this type are ``JsonRows`` (asked per type: a runtime-checkable
    protocol's isinstance costs ≈ 20 µs a call)."""
    return hasattr(kind, "json_array") and callable(kind.json_array)


def checked_rows(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """Rows validated through ``ReadingRow`` (raises on a broken one), unknown keys dropped."""
    known = [{k: v for k, v in r.items() if k in READING_FIELDS} for r in rows]
    valid = _ROWS.validate_python(known)
    dumped: list[dict[str, object]] = _ROWS.dump_python(valid, exclude_none=True)
    return dumped
