"""The foundation's commands: init, generate, connections, parties, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from meterkast import __version__
from meterkast.kernel import gs1
from tests.cli.conftest import Invoke


def _generated(cli: Invoke) -> None:
    result = cli("generate", "--connections", "120", "--seed", "5", "--as-of", "2026-11-23")
    assert result.exit_code == 0, result.output


def test_version(cli: Invoke) -> None:
    result = cli("--version")
    assert result.exit_code == 0 and result.output.strip() == f"meterkast {__version__}"


def test_init_creates_a_private_instance(cli: Invoke, home: Path) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert (home / "meterkast.db").is_file()
    assert home.stat().st_mode & 0o077 == 0


def test_generate_then_list_and_show_as_json(cli: Invoke) -> None:
    _generated(cli)
    listed = json.loads(
        cli("connections", "list", "--purpose", "3.8", "--format", "json", "--limit", "7").output
    )
    assert len(listed) == 7
    first = listed[0]
    for key in ("ean", "product", "postcode", "house_number", "grid_area", "capacity",
                "profile_category", "meter", "reading_choice", "contracts"):  # fmt: skip
        assert key in first
    shown = json.loads(
        cli("connections", "show", first["ean"], "--purpose", "3.8", "--format", "json").output
    )
    assert shown == first
    for contract in shown["contracts"]:
        assert set(contract) == {"customer_id", "supplier_ean", "start", "end"}
        assert contract["end"] is None or contract["end"] >= contract["start"]


def test_table_output_and_area_summary(cli: Invoke) -> None:
    _generated(cli)
    table = cli("connections", "list", "--purpose", "3.8", "--limit", "3")
    assert table.exit_code == 0 and "connections" in table.output
    summary = json.loads(cli("area", "summary", "--format", "json").output)
    assert summary["electricity_connections"] == 120
    assert summary["suppliers"] >= 4 and summary["third_parties"] >= 2


def test_parties_list_by_role(cli: Invoke) -> None:
    _generated(cli)
    suppliers = json.loads(cli("parties", "list", "--role", "supplier", "--format", "json").output)
    apps = json.loads(cli("parties", "list", "--role", "third_party", "--format", "json").output)
    assert {p["role"] for p in suppliers} == {"supplier"} and len(apps) >= 2
    assert all(len(p["id"]) == 13 for p in suppliers + apps)


def test_bad_input_is_one_line_and_exit_code_2(cli: Invoke) -> None:
    _generated(cli)
    for args, needle in (
        (("connections", "show", "871690000000000011", "--purpose", "3.8"), "check digit"),
        (("connections", "show", "12345", "--purpose", "3.8"), "18 digits"),
        (
            ("connections", "show", gs1.with_check_digit("87169000000999999"), "--purpose", "3.8"),
            "no connection",
        ),
        (("generate", "--connections", "5"), "already holds"),
        (("generate", "--connections", "5", "--as-of", "23-11-2026"), "date"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0]
