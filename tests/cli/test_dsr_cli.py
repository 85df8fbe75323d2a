"""`meterkast dsr`: submit, list, and an export file only its owner can read."""

from __future__ import annotations

import json
from pathlib import Path

from meterkast.cli.context import app_state
from tests.cli.conftest import Invoke


def test_submit_list_and_private_export(cli: Invoke, tmp_path: Path) -> None:
    assert (
        cli("generate", "--connections", "20", "--seed", "2", "--history-months", "1").exit_code
        == 0
    )
    customer = app_state().parties.contracts_of("871690000000000010")[-1].customer_id
    submitted = cli("dsr", "submit", "--customer", customer, "--kind", "access")
    assert submitted.exit_code == 0 and "due" in submitted.output
    listed = json.loads(cli("dsr", "list", "--open", "--format", "json").output)
    assert [r["customer"] for r in listed] == [customer] and listed[0]["overdue"] is False
    target = tmp_path / "export.html"
    exported = cli("dsr", "export", "--customer", customer, "--format", "html", "--output",
                   str(target))  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert target.stat().st_mode & 0o777 == 0o600
    assert customer in target.read_text() and "871690000000000010" in target.read_text()
    unknown = cli("dsr", "submit", "--customer", "C99999999", "--kind", "access")
    assert unknown.exit_code == 2 and "no customer" in unknown.output
