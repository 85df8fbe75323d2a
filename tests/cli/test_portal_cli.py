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
