"""Settings, one class per section, all read from ``METERKAST_*`` environment variables.

Nothing here is built at import: call :func:`load_settings` (the composition root does).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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


class KeySettings(BaseSettings):
    """The crypto-server: where the master key comes from and how the head-end identifies."""

    model_config = SettingsConfigDict(env_prefix="METERKAST_", extra="ignore")

    master_key: SecretStr | None = Field(
        default=None,
        description=(
            "Master key (KEK) as 32 or 64 hex digits or base64 of 16/32 bytes. When unset the "
            "key lives in $METERKAST_HOME/keys/master.key (mode 0600, created on first use)."
        ),
    )
    client_system_title: str = Field(
        default="4D4B530000000001",
        pattern=r"^[0-9A-Fa-f]{16}$",
        description="The head-end's DLMS system title (8 bytes, hex) used in its requests.",
    )
    lock_seconds: int = Field(
        default=300,
        gt=0,
        description="How long a per-meter key-change lock holds before others may take it.",
    )


class AccessSettings(BaseSettings):
    """The audit log and bearer tokens."""

    model_config = SettingsConfigDict(env_prefix="METERKAST_", extra="ignore")

    audit_checkpoint_interval: int = Field(
        default=1000,
        ge=1,
        description="Sign a checkpoint of the audit log's head after every this many entries.",
    )
    token_default_ttl: timedelta = Field(
        default=timedelta(hours=1),
        gt=timedelta(0),
        le=timedelta(days=30),
        description="Default bearer token lifetime: 15m, 1h, 7d, seconds or ISO 8601; <= 30 days.",
    )
    token_issuer: str = Field(
        default="meterkast",
        min_length=1,
        description="The iss claim tokens are issued with and verified against.",
    )

    @field_validator("token_default_ttl", mode="before")
    @classmethod
    def _short_duration(cls, value: object) -> object:
        """Accept the CLI's ``15m``/``1h``/``7d`` and bare seconds as well as ISO 8601."""
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return int(text)
            if text[-1:] in {"s", "m", "h", "d"} and text[:-1].isdigit():
                return int(text[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[text[-1]]
        return value


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
    readings_row_group_rows: int | None = Field(
        default=None,
        ge=256,
        description="Rows per Parquet row group; default PyArrow's (one-connection reads use "
        "the serving blobs, so the files need no small groups).",
    )

    def resolved_dir(self, home: Path) -> Path:
        return self.readings_dir if self.readings_dir is not None else home / "readings"


def load_settings() -> CoreSettings:
    return CoreSettings()


class PortalEnvSettings(BaseSettings):
    """The customer portal: session signing key, cookie policy and the optional OIDC adapter."""

    model_config = SettingsConfigDict(env_prefix="METERKAST_PORTAL_", extra="ignore")

    secret: SecretStr | None = Field(
        default=None,
        description="Key that signs portal session cookies. When unset a random key lives in "
        "$METERKAST_HOME/portal.key (mode 0600, created on first use).",
    )
    https_only: bool = Field(default=True, description="Send the session cookie over https only.")
    oidc_metadata_url: str | None = Field(
        default=None,
        description="OpenID Connect discovery URL of the operator's identity provider. Unset: "
        "the OIDC adapter is off and customers sign in with one-time codes.",
    )
    oidc_client_id: str = Field(default="", description="The portal's client id at the provider.")
    oidc_client_secret: SecretStr = Field(default=SecretStr(""), description="Its secret.")
    oidc_customer_claim: str = Field(
        default="customer_number", description="ID token claim holding the customer number."
    )
