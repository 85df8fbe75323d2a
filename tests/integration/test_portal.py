"""The portal through FastAPI's TestClient: real grid, parties and grants on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from meterkast.api.deps import ACTIVITY
from meterkast.web.accounts import MAX_ATTEMPTS
from tests.portal_support import APP_EAN, CUSTOMER, EAN, Portal, build_portal, pkce_pair

BASE = "http://localhost"  # authlib accepts plain http on loopback only


@pytest.fixture
def portal(engine: Engine) -> Iterator[tuple[TestClient, Portal]]:
    built = build_portal(engine)
    with TestClient(built.app, base_url=BASE, follow_redirects=False) as client:
        yield client, built


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def _sign_in(client: TestClient, built: Portal, customer: str = CUSTOMER) -> str:
    page = client.get("/portal/login")
    code = built.codes.issue(customer)
    answer = client.post(
        "/portal/login",
        data={
            "csrf": _csrf(page.text),
            "customer_id": customer,
            "code": code,
            "next": "/portal/connections",
        },
    )
    assert answer.status_code == 303, answer.text
    return _csrf(client.get("/portal/connections").text)


def test_every_portal_route_declares_its_activity(portal: tuple[TestClient, Portal]) -> None:
    client, _ = portal
    paths = client.get("/openapi.json").json()["paths"]
    portal_ops = [
        (p, m, op)
        for p, ms in paths.items()
        for m, op in ms.items()
        if p.startswith(("/portal", "/oauth"))
    ]
    assert len(portal_ops) >= 14
    assert {"/oauth/authorize", "/oauth/token", "/portal/access-log"} <= set(paths)
    for path, method, op in portal_ops:
        assert op.get(ACTIVITY), f"{method} {path} is not bound to a register activity"


def test_sign_in_with_a_one_time_code(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    assert client.get("/portal/connections").headers["location"].startswith("/portal/login?next=")
    page = client.get("/portal/login")
    csrf, code = _csrf(page.text), built.codes.issue(CUSTOMER)
    wrong = client.post(
        "/portal/login", data={"csrf": csrf, "customer_id": CUSTOMER, "code": "AAAAA-AAAAA"}
    )
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text
    right = client.post(
        "/portal/login",
        data={
            "csrf": csrf,
            "customer_id": CUSTOMER.lower(),
            "code": code.lower(),
            "next": "//evil.example",
        },
    )
    assert right.status_code == 303 and right.headers["location"] == "/portal/connections"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "Kerkstraat 3" in client.get("/portal/connections").text
    client.cookies.clear()
    again = client.post(
        "/portal/login",
        data={
            "csrf": _csrf(client.get("/portal/login").text),
            "customer_id": CUSTOMER,
            "code": code,
        },
    )
    assert again.status_code == 401, "a code works once"


def test_wrong_guesses_burn_the_code(portal: tuple[TestClient, Portal]) -> None:
    _, built = portal
    code = built.codes.issue(CUSTOMER)
    for _ in range(MAX_ATTEMPTS):
        assert not built.codes.redeem(CUSTOMER, "BBBBB-BBBBB")
    assert not built.codes.redeem(CUSTOMER, code)
    built.now[0] = built.now[0].replace(hour=10)
    late = built.codes.issue(CUSTOMER)
    built.now[0] = built.now[0].replace(hour=11)
    assert not built.codes.redeem(CUSTOMER, late), "expired after 10 minutes"


def test_post_without_csrf_is_refused(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    _sign_in(client, built)
    url = f"/portal/connections/{EAN}/reading-choice"
    refused = client.post(url, data={"choice": "administratively_off", "csrf": "forged"})
    assert refused.status_code == 400 and "<html" in refused.text
    assert built.services.grid.get_connection(EAN).reading_choice(built.now[0].date()).value == (
        "standard"
    )


def test_chart_page_reads_through_the_access_service(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    _sign_in(client, built)
    page = client.get(f"/portal/connections/{EAN}")
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text and "Verbruik" in page.text
    assert page.text.count('<rect class="bar"') >= 2 * 22  # 23 months of import and feed-in
    assert '<title id="chart-consumption-t">' in page.text and "<table>" in page.text
    assert "Content-Security-Policy" in page.headers and "script" not in page.text.lower()
    read = [e for e in built.audit.entries if e["action"] == "read_daily"][-1]
    assert (read["purpose"], read["allowed"], read["party"]) == ("A.1", True, CUSTOMER)
    assert read["days"][0]["first"].isoformat() == "2025-01-01"
    daily = client.get(f"/portal/connections/{EAN}?view=day&lang=en")
    assert '<html lang="en">' in daily.text and "Consumption" in daily.text
    assert daily.text.count('<rect class="bar"') > 600
    assert client.cookies.get("lang") == "en"
    assert '<html lang="en">' in client.get("/portal/connections").text


def test_someone_elses_connection_is_not_found(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    from meterkast.kernel.codes import CustomerKind
    from meterkast.parties.domain import ContactData, Customer, CustomerId

    built.services.parties.add_customer(
        Customer(CustomerId("C00000002"), CustomerKind.PERSON, "B. de Vries", ContactData())
    )
    _sign_in(client, built, "C00000002")
    assert client.get(f"/portal/connections/{EAN}").status_code == 404
    assert client.get(f"/portal/connections/{EAN}/readings.csv").status_code == 404
    assert built.audit.entries[-1]["allowed"] is False


def test_downloads(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    _sign_in(client, built)
    csv = client.get(f"/portal/connections/{EAN}/readings.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[1].startswith(f"{EAN},2025-01-01,")
    xml = client.get(f"/portal/connections/{EAN}/readings.xml")
    assert xml.headers["content-type"] == "application/atom+xml" and "<IntervalBlock" in xml.text


def test_reading_choice_switches_both_ways(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    csrf = _sign_in(client, built)
    url = f"/portal/connections/{EAN}/reading-choice"
    assert 'data-choice="standard"' in client.get(f"/portal/connections/{EAN}").text
    assert (
        client.post(url, data={"csrf": csrf, "choice": "administratively_off"}).status_code == 303
    )
    assert 'data-choice="administratively_off"' in client.get(f"/portal/connections/{EAN}").text
    assert client.post(url, data={"csrf": csrf, "choice": "standard"}).status_code == 303
    changes = [e for e in built.audit.entries if e["action"] == "change_choice"]
    assert [e["purpose"] for e in changes] == ["1.2", "1.2"]


def test_give_and_withdraw_a_grant(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    csrf = _sign_in(client, built)
    form = {
        "csrf": csrf,
        "connection_ean": EAN,
        "grantee": APP_EAN,
        "scopes": ["daily"],
        "data_first": "2026-01-01",
        "data_last": "2026-11-23",
        "valid_days": "30",
    }
    assert client.post("/portal/grants", data=form).status_code == 303
    page = client.get("/portal/grants").text
    assert "WattWijzer" in page and 'data-status="active"' in page
    grant_id = re.search(r'data-grant="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    withdrawn = client.post(f"/portal/grants/{grant_id}/withdraw", data={"csrf": csrf})
    assert withdrawn.status_code == 303
    assert 'data-status="revoked"' in client.get("/portal/grants").text
    bad = client.post("/portal/grants", data={**form, "grantee": "8719900000011"})
    assert bad.status_code == 400  # a supplier reads daily readings by law, not by grant


def _authorize_url(client_id: str, challenge: str, **extra: str) -> str:
    from urllib.parse import urlencode

    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "http://127.0.0.1:9999/cb",
        "scope": "24_maanden_dagstanden",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"/oauth/authorize?{urlencode(query)}"


def test_oauth_code_flow_with_pkce(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    client_id, secret = built.clients.add(APP_EAN, ["http://127.0.0.1:9999/cb"])
    verifier, challenge = pkce_pair()
    url = _authorize_url(client_id, challenge)
    assert client.get(url).headers["location"].startswith("/portal/login?next=%2Foauth")
    csrf = _sign_in(client, built)
    consent = client.get(url)
    assert consent.status_code == 200 and "WattWijzer" in consent.text
    answer = client.post(
        url,
        data={
            "csrf": csrf,
            "decision": "allow",
            "connection_ean": EAN,
            "scopes": ["24_maanden_dagstanden"],
            "data_first": "2025-06-01",
            "data_last": "2026-11-23",
        },
    )
    location = urlsplit(answer.headers["location"])
    params = parse_qs(location.query)
    assert location.netloc == "127.0.0.1:9999" and params["state"] == ["xyz"]
    token_form = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": "http://127.0.0.1:9999/cb",
        "code_verifier": "x" * 43,
    }
    wrong = client.post("/oauth/token", data=token_form, auth=(client_id, secret))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    token = client.post(
        "/oauth/token", data={**token_form, "code_verifier": verifier}, auth=(client_id, secret)
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["connection_ean"] == EAN and body["scope"] == "24_maanden_dagstanden"
    principal, grant_id, _ = built.tokens.issued[body["access_token"]]
    assert principal.party_id == APP_EAN and grant_id
    assert built.services.grants.get(grant_id).purpose == "A.3"
    read = client.get(
        f"/api/v1/connections/{EAN}/readings/daily",
        params={"from": "2025-01-01", "to": "2026-11-23", "purpose": "A.3"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert read.status_code == 200
    assert read.json()["days_disclosed"] == [{"first": "2025-06-01", "last": "2026-11-23"}]
    replay = client.post(
        "/oauth/token", data={**token_form, "code_verifier": verifier}, auth=(client_id, secret)
    )
    assert replay.status_code == 400, "a code works once"
    log = client.get("/portal/access-log").text
    assert f'data-party="{APP_EAN}"' in log and "WattWijzer" in log
    assert "2026-11-23 10:00" in log  # 09:00 UTC is 10:00 in Amsterdam


def test_switching_language_keeps_the_consent_request(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    client_id, _ = built.clients.add(APP_EAN, ["http://127.0.0.1:9999/cb"])
    _sign_in(client, built)
    page = client.get(_authorize_url(client_id, pkce_pair()[1])).text
    switch = re.search(r'<a href="([^"]+)" lang="en"', page)
    assert switch, "no language link"
    english = client.get(switch.group(1).replace("&amp;", "&"))
    assert english.status_code == 200 and "Consent for WattWijzer" in english.text


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"scope": "alles"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
        ({"redirect_uri": "http://127.0.0.1:9999/other"}, "page"),
    ],
)
def test_oauth_requests_without_s256_scope_or_known_redirect_fail(
    portal: tuple[TestClient, Portal], extra: dict[str, str], expected: str
) -> None:
    client, built = portal
    client_id, _ = built.clients.add(APP_EAN, ["http://127.0.0.1:9999/cb"])
    _sign_in(client, built)
    answer = client.get(_authorize_url(client_id, pkce_pair()[1], **extra))
    if expected == "page":  # never redirect to an unregistered URI: tell the customer instead
        assert answer.status_code == 400 and "<html" in answer.text
    else:
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("http://127.0.0.1:9999/cb?") and f"error={expected}" in location


def test_denied_consent_gives_no_grant(portal: tuple[TestClient, Portal]) -> None:
    client, built = portal
    client_id, _ = built.clients.add(APP_EAN, ["http://127.0.0.1:9999/cb"])
    csrf = _sign_in(client, built)
    url = _authorize_url(client_id, pkce_pair()[1])
    answer = client.post(url, data={"csrf": csrf, "decision": "deny"})
    assert "error=access_denied" in answer.headers["location"]
    assert built.services.grants.of_customer(CUSTOMER, built.now[0]) == []


def _code(client: TestClient, built: Portal, client_id: str, challenge: str) -> str:
    csrf = _sign_in(client, built)
    answer = client.post(
        _authorize_url(client_id, challenge),
        data={
            "csrf": csrf,
            "decision": "allow",
            "connection_ean": EAN,
            "scopes": ["24_maanden_dagstanden"],
            "data_first": "2026-01-01",
            "data_last": "2026-11-23",
        },
    )
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def test_token_endpoint_checks_secret_and_code_age(portal: tuple[TestClient, Portal]) -> None:
    from datetime import timedelta

    client, built = portal
    client_id, secret = built.clients.add(APP_EAN, ["http://127.0.0.1:9999/cb"])
    verifier, challenge = pkce_pair()
    form = {
        "grant_type": "authorization_code",
        "code": _code(client, built, client_id, challenge),
        "redirect_uri": "http://127.0.0.1:9999/cb",
        "code_verifier": verifier,
        "client_id": client_id,
    }
    bad = client.post("/oauth/token", data={**form, "client_secret": "guess"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    ok = client.post("/oauth/token", data={**form, "client_secret": secret})  # secret_post
    assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
    late = {**form, "code": _code(client, built, client_id, challenge)}
    built.now[0] += timedelta(minutes=11)
    expired = client.post("/oauth/token", data={**late, "client_secret": secret})
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
