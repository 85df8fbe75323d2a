"""Reading and validating the register file (``activities.toml``, shipped with the package).

The file is checked as a whole when read: a register that is even slightly wrong would let the
access context accept a purpose it should refuse, so a broken file fails loudly, with the
activity id and field in one line.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from meterkast.kernel.codes import LegalBasis, Role
from meterkast.kernel.errors import InvalidValueError
from meterkast.register.domain import (
    CONTEXTS,
    OUTSIDE,
    Activity,
    DataCategory,
    DataSubject,
    Group,
    Register,
    Retention,
    activity_sort_key,
)

_ID = re.compile(r"^(?:[1-9]\d*|A)\.[1-9]\d*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
_MODULE = re.compile(r"^meterkast\.([a-z_]+)(?:\.[a-z_]+)*$")


class RegisterFileError(InvalidValueError):
    """The register file is malformed or inconsistent."""

    code = "register-invalid"


def _text(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise RegisterFileError(f"{where}: {key} must be text")
    value = value.strip()
    if required and not value:
        raise RegisterFileError(f"{where}: missing {key}")
    return value


def _texts(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegisterFileError(f"{where}: {key} must be a list of non-empty texts")
    if len(set(value)) != len(value):
        raise RegisterFileError(f"{where}: {key} lists a value twice")
    return tuple(v.strip() for v in value)


_E = TypeVar("_E", LegalBasis, Role)


def _codes(table: dict[str, Any], key: str, where: str, enum: type[_E]) -> tuple[_E, ...]:
    out = []
    for value in _texts(table, key, where):
        try:
            out.append(enum(value))
        except ValueError:
            raise RegisterFileError(f"{where}: unknown {key[:-1]} {value!r}") from None
    return tuple(out)


def _groups(data: dict[str, Any]) -> tuple[Group, ...]:
    tables = data.get("groups")
    if not isinstance(tables, dict) or not tables:
        raise RegisterFileError("register: no [groups]")
    return tuple(
        Group(
            key=key,
            name_nl=_text(t, "name_nl", f"group {key}"),
            name=_text(t, "name", f"group {key}"),
            data_use=_text(t, "data_use", f"group {key}"),
        )
        for key, t in tables.items()
    )


def _categories(data: dict[str, Any]) -> tuple[DataCategory, ...]:
    tables = data.get("categories")
    if not isinstance(tables, dict) or not tables:
        raise RegisterFileError("register: no [categories]")
    out = []
    for key, t in tables.items():
        if not _KEY.match(key):
            raise RegisterFileError(f"category {key!r}: not a dotted lower-case key")
        out.append(
            DataCategory(
                key=key,
                description=_text(t, "description", f"category {key}"),
                standard=bool(t.get("standard", False)),
            )
        )
    keys = {c.key for c in out}
    for category in out:
        # A project key hangs below a declared key or directly below a top-level fideslang
        # category such as ``user.sensor`` (standard keys are checked against fideslang's own
        # taxonomy by the export tests), so the exported taxonomy has no gaps.
        parent = category.parent
        top_level = parent is not None and parent.count(".") == 1 and parent.startswith("user.")
        if not category.standard and parent and parent not in keys and not top_level:
            raise RegisterFileError(f"category {category.key}: parent not declared")
    return tuple(out)


def _subjects(data: dict[str, Any]) -> tuple[DataSubject, ...]:
    tables = data.get("subjects")
    if not isinstance(tables, dict) or not tables:
        raise RegisterFileError("register: no [subjects]")
    return tuple(
        DataSubject(
            key=key,
            description=_text(t, "description", f"subject {key}"),
            standard=bool(t.get("standard", False)),
        )
        for key, t in tables.items()
    )


def _implemented_by(t: dict[str, Any], where: str) -> tuple[tuple[str, ...], str | None]:
    value = t.get("implemented_by")
    if value == OUTSIDE:
        return (), _text(t, "outside_reason", where)
    if isinstance(value, str):
        raise RegisterFileError(f"{where}: implemented_by must be a list or {OUTSIDE!r}")
    modules = _texts(t, "implemented_by", where)
    if not modules:
        raise RegisterFileError(f"{where}: implemented_by is empty")
    for module in modules:
        match = _MODULE.match(module)
        if match is None or match.group(1) not in CONTEXTS:
            raise RegisterFileError(f"{where}: {module!r} is not a meterkast context module")
    if "outside_reason" in t:
        raise RegisterFileError(f"{where}: outside_reason given for an activity in the system")
    return modules, None


def _retention(t: dict[str, Any], where: str) -> Retention:
    value = t.get("retention")
    if not isinstance(value, dict):
        raise RegisterFileError(f"{where}: missing retention")
    try:
        return Retention(
            period=_text(value, "period", f"{where} retention"),
            after=_text(value, "after", f"{where} retention"),
            note=_text(value, "note", f"{where} retention", required=False),
        )
    except ValueError as error:
        raise RegisterFileError(f"{where}: {error}") from None


def _activity(
    t: dict[str, Any], groups: set[str], categories: set[str], subjects: set[str]
) -> Activity:
    activity_id = _text(t, "id", "activity")
    where = f"activity {activity_id}"
    if not _ID.match(activity_id):
        raise RegisterFileError(f"{where}: id must look like 1.1 or A.1")
    group = _text(t, "group", where)
    if group not in groups:
        raise RegisterFileError(f"{where}: unknown group {group!r}")
    if activity_id.partition(".")[0] != group:
        raise RegisterFileError(f"{where}: id does not belong to group {group}")
    addition = t.get("addition")
    if not isinstance(addition, bool):
        raise RegisterFileError(f"{where}: addition must be true or false")
    if addition != (group == "A"):
        raise RegisterFileError(f"{where}: additions, and only additions, belong to group A")
    legal_bases = _codes(t, "legal_bases", where, LegalBasis)
    if not legal_bases:
        raise RegisterFileError(f"{where}: no legal basis")
    data_categories = _texts(t, "data_categories", where)
    for key in data_categories:
        if key not in categories:
            raise RegisterFileError(f"{where}: unknown data category {key!r}")
    data_subjects = _texts(t, "data_subjects", where)
    for key in data_subjects:
        if key not in subjects:
            raise RegisterFileError(f"{where}: unknown data subject {key!r}")
    if not data_categories or not data_subjects:
        raise RegisterFileError(f"{where}: needs data categories and data subjects")
    implemented_by, outside_reason = _implemented_by(t, where)
    roles = _codes(t, "roles", where, Role)
    if roles and outside_reason is not None:
        raise RegisterFileError(f"{where}: no role can use an activity outside this system")
    data_use = _text(t, "data_use", where, required=False)
    return Activity(
        id=activity_id,
        group=group,
        name_nl=_text(t, "name_nl", where),
        name=_text(t, "name", where),
        description=_text(t, "description", where),
        legal_bases=legal_bases,
        data_categories=data_categories,
        data_subjects=data_subjects,
        retention=_retention(t, where),
        recipients=_texts(t, "recipients", where),
        roles=roles,
        implemented_by=implemented_by,
        outside_reason=outside_reason,
        addition=addition,
        data_use=data_use or None,
        notes=_text(t, "notes", where, required=False),
    )


def parse_register(text: str) -> Register:
    """Parse and check a register document; raises :class:`RegisterFileError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RegisterFileError(f"register file is not valid TOML: {error}") from None
    version = _text(data, "version", "register")
    groups = _groups(data)
    categories = _categories(data)
    subjects = _subjects(data)
    tables = data.get("activity")
    if not isinstance(tables, list) or not tables:
        raise RegisterFileError("register: no [[activity]] entries")
    group_keys = {g.key for g in groups}
    category_keys = {c.key for c in categories}
    subject_keys = {s.key for s in subjects}
    activities: list[Activity] = []
    seen: set[str] = set()
    for table in tables:
        activity = _activity(table, group_keys, category_keys, subject_keys)
        if activity.id in seen:
            raise RegisterFileError(f"activity {activity.id}: duplicate id")
        seen.add(activity.id)
        activities.append(activity)
    activities.sort(key=lambda a: activity_sort_key(a.id))
    return Register(
        declared_version=version,
        digest=hashlib.sha256(text.encode()).hexdigest(),
        groups=groups,
        categories=categories,
        subjects=subjects,
        activities=tuple(activities),
    )


def load_register(path: Path) -> Register:
    """Read a register file from disk (for tests and for operators' own registers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RegisterFileError(f"cannot read register file {path}: {error.strerror}") from None
    return parse_register(text)


@cache
def default_register() -> Register:
    """The register shipped with this version of meterkast, read once per process."""
    text = resources.files("meterkast.register").joinpath("activities.toml").read_text("utf-8")
    return parse_register(text)
