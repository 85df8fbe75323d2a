"""Portal configuration: the OIDC adapter is off unless configured; the session key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from meterkast.api.app import create_app
from meterkast.bootstrap import bootstrap
from meterkast.settings import CoreSettings
from meterkast.web.accounts import portal_secret
from meterkast.web.oidc import OidcSettings
from meterkast.web.portal import PortalSettings
from tests.portal_support import build_portal


def test_oidc_adapter_is_off_by_default_and_mounts_when_configured(engine: Engine) -> None:
    built = build_portal(engine)
    with TestClient(built.app, base_url="http://localhost") as client:
        assert not [p for p in client.get("/openapi.json").json()["paths"] if "oidc" in p]
        assert "/portal/oidc/login" not in client.get("/portal/login").text
    settings: PortalSettings = built.app.state.portal
    oidc = OidcSettings("https://idp.invalid/.well-known/openid-configuration", "portal", "s")
    configured = create_app(
        built.services,
        PortalSettings(
            settings.secret_key, settings.login_codes, settings.clients, oidc=oidc, https_only=False
        ),
    )
    with TestClient(configured, base_url="http://localhost") as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/portal/oidc/login", "/portal/oidc/callback"} <= set(paths)
        assert 'href="/portal/oidc/login"' in client.get("/portal/login").text


def test_session_key_file_is_private_and_stable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = portal_secret(home)
    assert len(first) >= 48 and portal_secret(home) == first
    assert stat.S_IMODE((home / "portal.key").stat().st_mode) == 0o600


def test_bootstrap_builds_portal_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METERKAST_PORTAL_SECRET", raising=False)
    monkeypatch.setenv("METERKAST_PORTAL_HTTPS_ONLY", "false")
    app = bootstrap(CoreSettings(home=tmp_path / "home"))
    settings = app.portal_settings()
    assert settings.oidc is None and settings.https_only is False
    assert settings.secret_key == portal_secret(tmp_path / "home")
    monkeypatch.setenv("METERKAST_PORTAL_OIDC_METADATA_URL", "https://idp.invalid/meta")
    assert app.portal_settings().oidc is not None
    app.close()
