"""``meterkast register``: export formats, listing by role, unknown activities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fideslang.models import Taxonomy

from tests.cli.conftest import Invoke


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [("json", '"activities"'), ("md", "# Processing register"), ("html", '<html lang="en">')],
)
def test_export_to_file(cli: Invoke, tmp_path: Path, fmt: str, marker: str) -> None:
    out = tmp_path / f"register.{fmt}"
    result = cli("register", "export", "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert marker in out.read_text(encoding="utf-8")


def test_export_fideslang_to_stdout_validates(cli: Invoke) -> None:
    result = cli("register", "export", "--format", "fideslang")
    assert result.exit_code == 0, result.output
    taxonomy = Taxonomy.model_validate(json.loads(result.stdout))
    assert len(taxonomy.system[0].privacy_declarations) == 52


def test_list_by_role_as_json(cli: Invoke) -> None:
    result = cli("register", "list", "--role", "staff_netloss", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == ["7.1", "7.2", "7.3"]


def test_show_and_unknown_activity(cli: Invoke) -> None:
    shown = cli("register", "show", "3.4")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["legal_bases"] == ["legal_obligation"]
    unknown = cli("register", "show", "3.99")
    assert unknown.exit_code == 2
    assert "unknown register activity" in unknown.output


def test_unknown_format_is_refused(cli: Invoke) -> None:
    result = cli("register", "export", "--format", "pdf")
    assert result.exit_code != 0
