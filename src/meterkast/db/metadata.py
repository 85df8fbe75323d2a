"""The shared SQLAlchemy metadata. Each context declares its tables on it in its adapters."""

from __future__ import annotations

import enum

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


def code_column(name: str, codes: type[enum.StrEnum], **kwargs: object) -> sa.Column[str]:
    """A column holding a code list value, stored as text and checked by the database."""
    return sa.Column(
        name,
        sa.Enum(
            codes,
            native_enum=False,
            create_constraint=True,
            validate_strings=True,
            values_callable=lambda e: [m.value for m in e],
            length=32,
            name=name,
        ),
        **kwargs,  # type: ignore[arg-type]
    )


def all_tables() -> sa.MetaData:
    """The metadata with every context's tables registered (imports them for their effect)."""
    from meterkast.access.adapters import grants as _access_grants  # noqa: F401
    from meterkast.access.adapters import sql as _access  # noqa: F401
    from meterkast.acquisition.adapters import sql as _acquisition  # noqa: F401
    from meterkast.fleet.adapters import sql as _fleet  # noqa: F401
    from meterkast.grid.adapters import sql as _grid  # noqa: F401
    from meterkast.keys.adapters import sql as _keys  # noqa: F401
    from meterkast.parties.adapters import sql as _parties  # noqa: F401
    from meterkast.rights.adapters import sql as _rights  # noqa: F401
    from meterkast.web.adapters import sql as _web  # noqa: F401

    return metadata
