"""``meterkast portal code`` and ``meterkast portal client add``."""

from __future__ import annotations

from meterkast.cli.context import app_state
from meterkast.kernel.codes import CustomerKind, PartyRole
from meterkast.parties.domain import ContactData, Customer, CustomerId, Ean13, Party
from tests.cli.conftest import Invoke

APP = "8719900010010"


def _seed(cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    parties = app_state().parties
    parties.add_customer(
        Customer(CustomerId("C00000001"), CustomerKind.PERSON, "A. Jansen", ContactData())
    )
    parties.add_party(Party(Ean13(APP), PartyRole.THIRD_PARTY, "WattWijzer"))
    parties.add_party(Party(Ean13("8719900000011"), PartyRole.SUPPLIER, "Polderstroom"))


def test_code_is_printed_once_stored_hashed_and_redeemable(cli: Invoke) -> None:
    _seed(cli)
    result = cli("portal", "code", "--customer", "c00000001")
    assert result.exit_code == 0, result.output
    code = result.stdout.strip()
    assert len(code) == 11 and code[5] == "-"
    with app_state().engine.connect() as db:
        stored = db.exec_driver_sql("SELECT code_hash FROM portal_login_codes").scalar_one()
    assert code.replace("-", "") not in stored
    assert app_state().login_codes.redeem("C00000001", code)
    unknown = cli("portal", "code", "--customer", "C00000099")
    assert unknown.exit_code == 2


def test_client_add_prints_the_secret_once(cli: Invoke) -> None:
    _seed(cli)
    result = cli(
        "portal",
        "client",
        "add",
        "--party",
        APP,
        "--redirect-uri",
        "https://app.example/cb",
        "--redirect-uri",
        "http://127.0.0.1:8080/cb",
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    client = app_state().oauth_clients.get(lines["client_id"])
    assert client is not None and client.party_ean == APP
    assert client.redirect_uris == ("https://app.example/cb", "http://127.0.0.1:8080/cb")
    assert lines["client_secret"] not in client.secret_hash
    supplier = cli(
        "portal",
        "client",
        "add",
        "--party",
        "8719900000011",
        "--redirect-uri",
        "https://x.example/cb",
    )
    assert supplier.exit_code == 2 and "third parties" in supplier.output
    plain = cli("portal", "client", "add", "--party", APP, "--redirect-uri", "http://x.example/")
    assert plain.exit_code == 2


def test_staff_code_is_audited_and_signs_in_only_that_role(cli: Invoke) -> None:
    _seed(cli)
    before = app_state().audit.count()
    result = cli("portal", "staff-code", "--role", "privacy_officer", "--staff", "PO01")
    assert result.exit_code == 0, result.output
    code = result.stdout.strip()
    assert app_state().audit.count() == before + 1 and app_state().audit.verify().ok
    assert not app_state().login_codes.redeem("staff_service:PO01", code)
    assert app_state().login_codes.redeem("privacy_officer:PO01", code)
    assert cli("portal", "staff-code", "--role", "supplier", "--staff", "PO01").exit_code == 2
    assert cli("portal", "staff-code", "--role", "staff_service", "--staff", "a b").exit_code == 2


def test_service_case_open_and_close(cli: Invoke) -> None:
    from meterkast.access.policy import CaseKind
    from meterkast.kernel import gs1
    from tests.integration.test_register_services import EAN
    from tests.integration.test_register_services import _seed as seed_connection

    assert cli("init").exit_code == 0
    seed_connection(app_state().engine)
    args = ("portal", "case", "open", "--connection", EAN, "--customer", "C00000001",
            "--subject", "complaint about a bill", "--staff", "KS07")  # fmt: skip
    assert cli(*args, "--purpose", "7.1").exit_code == 2  # not a service purpose
    unknown = gs1.with_check_digit("87169000000000009")
    assert cli(*args[:4], unknown, *args[5:], "--purpose", "1.5").exit_code == 2
    opened = cli(*args, "--purpose", "1.5")
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    assert [(c.open, c.purpose, c.handler) for c in app_state().cases.facts_for(EAN)] == [
        (True, "1.5", "KS07")]  # fmt: skip
    team = cli(*args, "--purpose", "1.4", "--team")
    assert team.exit_code == 0, team.output
    listed = app_state().cases.open_cases(CaseKind.SERVICE, "KS12")  # anyone in the team
    assert [(c.id, c.purpose, c.team) for c in listed] == [(team.stdout.strip(), "1.4", True)]
    assert cli("portal", "case", "close", team.stdout.strip()).exit_code == 0
    assert cli("portal", "case", "close", case_id).exit_code == 0
    assert [c.open for c in app_state().cases.facts_for(EAN)] == [False, False]
    assert cli("portal", "case", "close", case_id).exit_code == 2
