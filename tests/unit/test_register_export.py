"""Exports: fideslang validates them, HTML is self-contained, docs/register.md is current."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import Taxonomy

from meterkast.register import export
from meterkast.register.catalog import default_register
from meterkast.register.domain import Register
from tests.unit.test_register_catalog import TSV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def register() -> Register:
    return default_register()


def test_fideslang_document_validates_with_fideslang_models(register: Register) -> None:
    document = export.to_fideslang(register)
    taxonomy = Taxonomy.model_validate(document)
    (system,) = taxonomy.system
    assert len(system.privacy_declarations) == len(register.activities) == 52
    names = {d.name for d in system.privacy_declarations}
    assert "3.4 Metering data delivery" in names
    by_name = {d.name: d for d in system.privacy_declarations}
    assert by_name["A.3 Third-party service under the customer's consent"].data_use == (
        "third_party_sharing"
    )
    assert json.loads(export.to_fideslang_json(register)) == document


def test_fideslang_keys_resolve_in_default_or_project_taxonomy(register: Register) -> None:
    document = export.to_fideslang(register)
    default_categories = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    default_uses = {u.fides_key for u in DEFAULT_TAXONOMY.data_use}
    default_subjects = {s.fides_key for s in DEFAULT_TAXONOMY.data_subject}
    project_categories = {c["fides_key"] for c in document["data_category"]}
    project_subjects = {s["fides_key"] for s in document["data_subject"]}
    # Standard keys really are fideslang's; project keys are not, and hang below known keys.
    for category in register.categories:
        assert (category.key in default_categories) is category.standard, category.key
    for subject in register.subjects:
        assert (subject.key in default_subjects) is subject.standard, subject.key
    for entry in document["data_category"]:
        assert entry["parent_key"] in default_categories | project_categories
    for declaration in document["system"][0]["privacy_declarations"]:
        assert set(declaration["data_categories"]) <= default_categories | project_categories
        assert set(declaration["data_subjects"]) <= default_subjects | project_subjects
        assert declaration["data_use"] in default_uses


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.row_headers: list[str] = []
        self._in_row_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_row_header = tag == "th" and dict(attrs).get("scope") == "row"

    def handle_data(self, data: str) -> None:
        if self._in_row_header and data.strip():
            self.row_headers.append(data.strip())
            self._in_row_header = False


def test_html_is_accessible_self_contained_and_complete(register: Register) -> None:
    page = export.to_html(register)
    parser = _Collector()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert page.startswith("<!doctype html>")
    assert dict(parser.tags)["html"].get("lang") == "en"
    assert "h1" in tags and "caption" in tags and "th" in tags
    assert not any(t in {"script", "link", "img", "iframe"} for t in tags)
    assert not re.search(r"(src|href)\s*=", page)
    ids = {line.split("\t")[0] for line in _tsv_ids()}
    assert ids <= set(parser.row_headers)
    assert len(ids) == 47


def _tsv_ids() -> list[str]:
    if TSV.is_file():
        return TSV.read_text(encoding="utf-8").splitlines()[1:]
    return [a.id for a in default_register().activities if not a.addition]


def test_html_escapes_text(register: Register) -> None:
    page = export.to_html(register)
    assert "customer&#x27;s consent" in page  # the A.3 name, escaped


def test_json_export_round_trips(register: Register) -> None:
    data = json.loads(export.to_json(register))
    assert data["version"] == register.version
    assert [a["id"] for a in data["activities"]] == [a.id for a in register.activities]
    outside = next(a for a in data["activities"] if a["id"] == "9.2")
    assert outside["implemented_by"] == "outside this system" and outside["roles"] == []


def test_docs_register_md_is_current(register: Register) -> None:
    current = (ROOT / "docs" / "register.md").read_text(encoding="utf-8")
    assert current == export.to_markdown(register), "docs/register.md is stale: run `make docs`"
    assert "### A.1 Own insight and subject access *(addition)*" in current
