"""Settings, one class per section, all read from ``METERKAST_*`` environment variables.

Nothing here is built at import: call :func:`load_settings` (the composition root does).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """Where the instance lives and which relational database it uses."""

    model_config = SettingsConfigDict(env_prefix="METERKAST_", extra="ignore")

    home: Path = Field(
        default=Path(".meterkast"),
        description="Instance folder: the embedded database, readings and key files live here.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the relational store; default a SQLite file in the home.",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'meterkast.db').resolve()}"


class ReadingsSettings(BaseSettings):
    """Where the encrypted, month-partitioned readings files live and how they are laid out."""

    model_config = SettingsConfigDict(env_prefix="METERKAST_", extra="ignore")

    readings_dir: Path | None = Field(
        default=None,
        description="Folder of the readings store; default `readings/` in the instance folder.",
    )
    readings_retention_months: int = Field(
        default=24,
        ge=1,
        description="Months of readings kept; older months are purged and their keys destroyed.",
    )
    readings_row_group_rows: int = Field(
        default=1024,
        ge=256,
        description="Rows per Parquet row group: small groups make one connection's read cheap.",
    )

    def resolved_dir(self, home: Path) -> Path:
        return self.readings_dir if self.readings_dir is not None else home / "readings"


def load_settings() -> CoreSettings:
    return CoreSettings()
