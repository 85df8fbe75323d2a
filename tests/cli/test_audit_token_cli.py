"""``meterkast token`` and ``meterkast audit``: issue, verify, and catch a tampered log."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from meterkast.cli.context import app_state
from tests.cli.conftest import Invoke


def _issue(cli: Invoke, *args: str) -> str:
    result = cli("token", "issue", *args)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_issue_then_verify_and_audit(cli: Invoke, home: Path) -> None:
    assert cli("init").exit_code == 0
    token = _issue(cli, "--role", "third_party", "--party", "8712345678937",
                   "--ttl", "15m", "--grant", "g-17")  # fmt: skip
    assert token.count(".") == 2
    shown = json.loads(cli("token", "verify", token).output)
    assert (shown["role"], shown["party"], shown["grant"]) == (
        "third_party",
        "8712345678937",
        "g-17",
    )
    assert app_state().tokens.verify(token).grant_id == "g-17"
    _issue(cli, "--role", "customer", "--party", "C00000042")
    result = cli("audit", "verify")
    assert result.exit_code == 0 and result.output.strip() == "ok: 2 entries, no checkpoint yet"
    assert cli("audit", "checkpoint").output.startswith("checkpoint at 2 ")
    assert cli("audit", "verify").output.strip() == "ok: 2 entries, last checkpoint at 2"
    issued = app_state().audit.entries_for_party("8712345678937")
    assert [(r.purpose, r.action, r.grant_id) for r in issued] == [("A.4", "issue_token", "g-17")]


def test_refused_requests_exit_2(cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    too_long = cli("token", "issue", "--role", "customer", "--party", "C1", "--ttl", "31d")
    assert too_long.exit_code == 2 and "30 days" in too_long.output
    forged = cli("token", "verify", "not.a.token")
    assert forged.exit_code == 2 and "token malformed" in forged.output
    assert cli("audit", "verify").output.strip() == "ok: 0 entries, no checkpoint yet"


def test_tampering_exits_1_naming_the_entry(cli: Invoke, home: Path) -> None:
    assert cli("init").exit_code == 0
    for party in ("C1", "C2", "C3"):
        _issue(cli, "--role", "customer", "--party", party)
    with sqlite3.connect(home / "meterkast.db") as db:
        db.execute("UPDATE audit_entries SET purpose = '1.5' WHERE seq = 2")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "entry 2 (modified)" in result.output
