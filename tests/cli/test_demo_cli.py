"""`meterkast demo-access`: a real household, a real grant, tokens that work through the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from meterkast.cli.context import app_state
from tests.cli.conftest import Invoke


def test_demo_access_prints_working_tokens_and_a_sign_in_code(cli: Invoke) -> None:
    made = cli("generate", "--connections", "40", "--seed", "9", "--history-months", "2")
    assert made.exit_code == 0, made.output
    tour = cli("demo-access", "--base-url", "http://testserver")
    assert tour.exit_code == 0, tour.output
    tokens = dict(re.findall(r"export TOKEN_(\w+)=(\S+)", tour.output))
    assert set(tokens) == {"CUSTOMER", "SUPPLIER", "THIRD_PARTY"}
    assert re.search(r"with code [A-Z0-9]{5}-[A-Z0-9]{5}", tour.output)
    urls = re.findall(r'"(http://testserver/api/v1/[^"]+)"', tour.output)
    with TestClient(app_state().web_app()) as client:
        for role, url in zip(("CUSTOMER", "SUPPLIER", "THIRD_PARTY"), urls, strict=True):
            answer = client.get(url, headers={"Authorization": f"Bearer {tokens[role]}"})
            assert answer.status_code == 200, (role, answer.text)
            assert answer.json()["days_disclosed"], role
    assert app_state().audit.verify().ok
