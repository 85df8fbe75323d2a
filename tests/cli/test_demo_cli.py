"""`meterkast demo-access`: a real household, a real grant, tokens that work through the API."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from meterkast.cli.context import app_state
from meterkast.kernel.clock import local_day
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


def test_the_demo_sequence_works_under_a_relative_home(
    cli: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make demo`` keeps its instance under ``.meterkast/demo``, relative to the checkout:
    generate with history, a read cycle and a history answer through the API must all work
    there (serving files are opened by URI, which once failed on a relative path)."""
    today = local_day(datetime.now(UTC))  # as the Makefile's `date -d -3days`
    monkeypatch.chdir(home.parent)
    monkeypatch.setenv("METERKAST_HOME", os.path.join(".meterkast", "demo"))  # noqa: PTH118
    for command in (
        ("init",),
        ("generate", "--connections", "40", "--seed", "9", "--history-months", "2"),
        ("fleet", "build"),
        ("read", "--from", str(today - timedelta(days=3)), "--to", str(today - timedelta(days=1))),
    ):
        done = cli(*command)
        assert done.exit_code == 0, (command, done.output)
    tour = cli("demo-access", "--base-url", "http://testserver")
    assert tour.exit_code == 0, tour.output
    token = dict(re.findall(r"export TOKEN_(\w+)=(\S+)", tour.output))["CUSTOMER"]
    url = re.findall(r'"(http://testserver/api/v1/[^"]+)"', tour.output)[0]
    with TestClient(app_state().web_app()) as client:
        answer = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["readings"]
    assert (home.parent / ".meterkast" / "demo").is_dir()
