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
    with sqlite3.connect(home / "meterkast.db") as db:  # the run is recorded for the audit page
        rows = db.execute("SELECT entries, first_bad, tampering FROM audit_verifications")
        assert rows.fetchall() == [(1, 2, "modified")]


def test_revoke_refuses_the_token_from_now_on_and_is_audited(cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    token = _issue(cli, "--role", "customer", "--party", "C00000042")
    other = _issue(cli, "--role", "customer", "--party", "C00000042")
    jti = json.loads(cli("token", "verify", token).output)["token_id"]
    result = cli("token", "revoke", jti)
    assert result.exit_code == 0 and "revoked" in result.output, result.output
    refused = cli("token", "verify", token)
    assert refused.exit_code == 2 and "token revoked" in refused.output
    assert cli("token", "verify", other).exit_code == 0  # the party's other token still works
    again = cli("token", "revoke", jti)
    assert again.exit_code == 0 and "already" in again.output
    revocations = app_state().audit.entries_for_party("security-operator")
    assert [(r.event.value, r.purpose, r.reasons) for r in revocations] == [
        ("token_revoked", "A.4", (f"token {jti} revoked",))]  # fmt: skip
    assert cli("audit", "verify").output.strip() == "ok: 3 entries, no checkpoint yet"


def test_revoke_refuses_what_is_not_a_token_id(cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    for bad in ("short", "has space in it", "x" * 65, "a.b.c-token"):
        result = cli("token", "revoke", bad)
        assert result.exit_code == 2 and "not a token id" in result.output
    assert cli("audit", "verify").output.strip() == "ok: 0 entries, no checkpoint yet"
