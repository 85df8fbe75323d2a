"""The portal in a real browser: Debian's Chromium driven by Playwright against uvicorn.

Chromium comes from the system (``make test`` installs it when missing); nothing is downloaded.
In CI a missing Chromium fails the run. Screenshots land in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from tests.portal_support import APP_EAN, CUSTOMER, EAN, Portal, build_portal, pkce_pair

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"Chromium is missing at {CHROMIUM}; `make test` installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(asgi: ASGIApp) -> Iterator[str]:
    """Serve ``asgi`` with uvicorn on a free local port in a thread; yield its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(sqlite_engine: Engine) -> Iterator[tuple[str, Portal]]:
    from meterkast.db.migrate import upgrade

    upgrade(sqlite_engine)
    built = build_portal(sqlite_engine)
    with serving(built.app) as base_url:
        yield base_url, built


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="nl-NL")
    opened = context.new_page()
    yield opened
    ARTIFACTS.mkdir(exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _sign_in(page: Page, base: str, built: Portal, next_url: str = "") -> None:
    page.goto(next_url or f"{base}/portal/connections")
    expect(page).to_have_url(re.compile(r"/portal/login"))
    page.get_by_label("Klantnummer").fill(CUSTOMER)
    page.get_by_label("Eenmalige code").fill(built.codes.issue(CUSTOMER))
    page.get_by_role("button", name="Inloggen").click()


def test_sign_in_chart_and_reading_choice(page: Page, served: tuple[str, Portal]) -> None:
    base, built = served
    _sign_in(page, base, built)
    expect(page.get_by_role("heading", name="Mijn aansluitingen")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()
    page.get_by_role("link", name=re.compile("Kerkstraat 3")).click()
    chart = page.locator("svg.chart-consumption")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() >= 22
    assert chart.locator("rect.bar").first.bounding_box()["height"] > 0  # type: ignore[index]
    expect(page.get_by_role("img", name=re.compile("Verbruik per maand"))).to_be_visible()
    expect(page.locator("#choice-now")).to_have_attribute("data-choice", "standard")
    switch_off = page.get_by_role("button", name="Zet uitlezen op afstand uit")
    for _ in range(60):  # keyboard only: Tab to the button, see its focus ring, press Enter
        page.keyboard.press("Tab")
        if switch_off.evaluate("b => b === document.activeElement"):
            break
    expect(switch_off).to_be_focused()
    assert switch_off.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("#choice-now")).to_have_attribute("data-choice", "administratively_off")
    page.get_by_role("button", name="Zet uitlezen op afstand weer aan").click()
    expect(page.locator("#choice-now")).to_have_attribute("data-choice", "standard")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Consumption")).to_be_visible()


def test_give_and_withdraw_a_grant(page: Page, served: tuple[str, Portal]) -> None:
    base, built = served
    _sign_in(page, base, built, f"{base}/portal/grants")
    page.get_by_label("EAN-code van de partij").fill(APP_EAN)
    page.get_by_role("button", name="Toestemming geven").click()
    row = page.locator("tr[data-grant]")
    expect(row).to_have_attribute("data-status", "active")
    expect(row).to_contain_text("WattWijzer")
    row.get_by_role("button", name=re.compile("Intrekken")).click()
    expect(page.locator("tr[data-grant]")).to_have_attribute("data-status", "revoked")


def test_third_party_oauth_flow_and_the_access_log(page: Page, served: tuple[str, Portal]) -> None:
    base, built = served
    redirect = f"{base}/healthz"  # any page of ours: the test plays the app and reads the URL
    client_id, secret = built.clients.add(APP_EAN, [redirect])
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": "24_maanden_dagstanden",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    _sign_in(page, base, built, f"{base}/oauth/authorize?{query}")
    expect(page.get_by_role("heading", name="Toestemming voor WattWijzer")).to_be_visible()
    page.get_by_label("Eerste dag").fill("2026-01-01")
    page.get_by_role("button", name="Toestaan").click()
    page.wait_for_url(re.compile(r"/healthz\?"))
    params = parse_qs(urlsplit(page.url).query)
    assert params["state"] == ["s1"]
    token = httpx.post(
        f"{base}/oauth/token",
        auth=(client_id, secret),
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
    ).json()
    read = httpx.get(
        f"{base}/api/v1/connections/{EAN}/readings/daily",
        params={"from": "2025-11-01", "to": "2026-11-23", "purpose": "A.3"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert read.status_code == 200
    assert read.json()["days_disclosed"] == [{"first": "2026-01-01", "last": "2026-11-23"}]
    page.goto(f"{base}/portal/access-log")
    app_row = page.locator(f'tr[data-party="{APP_EAN}"]').first
    expect(app_row).to_contain_text("WattWijzer")
    expect(app_row).to_contain_text("A.3")
    expect(app_row).to_contain_text("2026-01-01 \u2013 2026-11-23")
