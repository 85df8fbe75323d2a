"""`meterkast dsr`: submit, list, and an export file only its owner can read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from meterkast.access.days import DayRange, DaySet
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
    exported = cli("dsr", "export", "--customer", customer, "--officer", "PO01",
                   "--format", "html", "--output", str(target))  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert target.stat().st_mode & 0o777 == 0o600
    assert customer in target.read_text() and "871690000000000010" in target.read_text()
    # The customer's access log shows the export as the privacy officer's, for the request.
    always = DaySet.of([DayRange(date(2000, 1, 1), date(2100, 1, 1))])
    log = app_state().audit.entries_for_connection("871690000000000010", always, customer)
    exports = [v for v in log if v.purpose == "A.5"]
    assert exports and all(v.party.startswith("privacy officer") for v in exports)
    assert not [v for v in log if v.party == "you"]
    unknown = cli("dsr", "submit", "--customer", "C99999999", "--kind", "access")
    assert unknown.exit_code == 2 and "no customer" in unknown.output


def test_an_export_needs_an_open_access_request_of_that_customer(cli: Invoke) -> None:
    assert cli("generate", "--connections", "20", "--seed", "2").exit_code == 0
    contracts = app_state().parties.contracts_of("871690000000000010")
    customer = contracts[-1].customer_id
    missing = cli("dsr", "export", "--customer", customer, "--officer", "PO01")
    assert missing.exit_code == 2 and "no open access request" in missing.output
    parties = app_state().parties
    other = next(
        k.customer_id
        for c in app_state().grid.list_connections(limit=20)
        for k in parties.contracts_of(c.ean)
        if k.customer_id != customer
    )
    assert cli("dsr", "submit", "--customer", other, "--kind", "access").exit_code == 0
    request_id = app_state().rights.requests(open_only=True)[0].id
    wrong = cli("dsr", "export", "--customer", customer, "--officer", "PO01",
                "--request", request_id)  # fmt: skip
    assert wrong.exit_code == 2 and "is not a request of" in wrong.output
    bad = cli("dsr", "export", "--customer", other, "--officer", "PO01", "--format", "pdf")
    assert bad.exit_code == 2 and "json or html" in bad.output
