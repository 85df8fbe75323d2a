"""Access settings come from METERKAST_* variables and reach the services built from them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from meterkast.bootstrap import bootstrap
from meterkast.kernel.codes import Role
from meterkast.settings import AccessSettings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert AccessSettings().token_default_ttl == timedelta(hours=1)
    monkeypatch.setenv("METERKAST_AUDIT_CHECKPOINT_INTERVAL", "7")
    monkeypatch.setenv("METERKAST_TOKEN_DEFAULT_TTL", "15m")
    monkeypatch.setenv("METERKAST_TOKEN_ISSUER", "netbeheer-zuid")
    settings = AccessSettings()
    assert (settings.audit_checkpoint_interval, settings.token_issuer) == (7, "netbeheer-zuid")
    assert settings.token_default_ttl == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("METERKAST_AUDIT_CHECKPOINT_INTERVAL", "0"),
        ("METERKAST_TOKEN_DEFAULT_TTL", "P31D"),
        ("METERKAST_TOKEN_DEFAULT_TTL", "31d"),
        ("METERKAST_TOKEN_DEFAULT_TTL", "soon"),
    ],
)
def test_out_of_range_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        AccessSettings()


def test_the_app_issues_tokens_with_the_configured_issuer_and_lifetime(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METERKAST_TOKEN_ISSUER", "netbeheer-zuid")
    monkeypatch.setenv("METERKAST_TOKEN_DEFAULT_TTL", "600")
    app = bootstrap()
    app.init()  # verifying asks the instance's revocation list
    claims = app.tokens.verify(app.tokens.issue(Role.CUSTOMER, "C00000042"))
    assert claims.issuer == "netbeheer-zuid"
    assert claims.expires_at - claims.issued_at == timedelta(minutes=10)
    assert (home / "keys" / "token-signing.ed25519").is_file()
