"""Readings answers straight to JSON bytes, in the shape the OpenAPI document declares.

A 24-month history is 730 rows. Validating each through ``ReadingRow`` and then letting FastAPI
validate and serialise the whole answer again cost ≈ 2 ms a request. The rows come from the
store's typed Arrow schema, so three paths, fastest first: rows that write themselves from their
columns (:class:`JsonRows`, the store's Arrow table: no Python object per value); plain dict rows
whose keys are among :data:`READING_FIELDS` with ``source`` and ``quality`` present, handed to
orjson as they are (≈ 0.15 ms); anything else — extra keys, a value orjson does not know — the
checked path through pydantic, which also refuses a row that breaks the schema. All leave out
fields that do not apply (an electricity day has no ``volume_dm3``) rather than writing null.
``tests/unit/test_api_encode.py`` holds both to what ``ReadingsOut`` itself would produce.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from itertools import repeat

import orjson
from fastapi import Response
from pydantic import TypeAdapter

from meterkast.access.ports import READING_FIELDS, JsonRows
from meterkast.access.service import Disclosure
from meterkast.api.schemas import ReadingRow

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC  # the store's times are UTC
_REQUIRED = ("source", "quality")
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
    if isinstance(rows, JsonRows) and (written := rows.json_array()) is not None:
        return orjson.dumps({**head, "readings": orjson.Fragment(written)}, option=_OPTIONS)
    if _plain(rows):
        try:
            return orjson.dumps({**head, "readings": rows}, option=_OPTIONS)
        except TypeError:  # a value orjson cannot write: the checked path says what is wrong
            pass
    return orjson.dumps({**head, "readings": checked_rows(rows)}, option=_OPTIONS)


def checked_rows(rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """Rows validated through ``ReadingRow`` (raises on a broken one), unknown keys dropped."""
    known = [{k: v for k, v in r.items() if k in READING_FIELDS} for r in rows]
    valid = _ROWS.validate_python(known)
    dumped: list[dict[str, object]] = _ROWS.dump_python(valid, exclude_none=True)
    return dumped


def _plain(rows: Sequence[Mapping[str, object]]) -> bool:
    """Only known keys and the required ones present (C-level loops: ≈ 80 µs for 730 rows)."""
    if not all(map(READING_FIELDS.issuperset, rows)):
        return False
    return all(all(map(operator.contains, rows, repeat(key))) for key in _REQUIRED)
