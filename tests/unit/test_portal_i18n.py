"""The portal's languages: how one is chosen, and that every template key exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import meterkast.web
from meterkast.access.audit import Tampering
from meterkast.access.policy import SERVICE_PURPOSES
from meterkast.kernel.codes import GrantScope, GrantStatus, ReadingChoice
from meterkast.rights.domain import RequestKind, RequestStatus
from meterkast.web.i18n import MESSAGES, choose, translator
from meterkast.web.oauth import SCOPES

TEMPLATES = Path(meterkast.web.__file__).parent / "templates"


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, None, "nl"),
        ("en", "nl", "nl", "en"),
        (None, "en", "nl", "en"),
        ("fr", None, "en-GB,en;q=0.9", "en"),
        (None, None, "de, en;q=0.5, nl;q=0.8", "nl"),
        (None, None, "fr", "nl"),
        (None, None, "en;q=0", "nl"),
        (None, None, "en;q=x", "nl"),
    ],
)
def test_language_choice(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert choose(query, cookie, accept) == expected


def test_every_message_has_both_languages_and_formats_the_same() -> None:
    for key, (nl, en) in MESSAGES.items():
        assert nl and en, key
        assert set(re.findall(r"{(\w+)}", nl)) == set(re.findall(r"{(\w+)}", en)), key


def test_templates_use_only_known_keys() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""t\(["']([\w.]+)["']""", template.read_text()))
    assert used, "no keys found: the pattern is wrong"
    static = {k for k in used if not k.endswith("_")}
    assert static <= set(MESSAGES), static - set(MESSAGES)
    assert used - static == {
        "choice_",
        "purpose_",
        "scope_",
        "status_",
        "kind_",
        "rstatus_",
        "tamper_",
    }
    # keys built in templates as prefix ~ value: every value needs its message
    dynamic = (
        [f"choice_{c.value}" for c in ReadingChoice]
        + [f"status_{s.value}" for s in GrantStatus]
        + [f"scope_{s.value}" for s in GrantScope]
        + [f"scope_{s}" for s in SCOPES]
        + ["purpose_A.1", "purpose_A.3", "purpose_1.2"]
        + [f"purpose_{p}" for p in SERVICE_PURPOSES]
        + [f"kind_{k.value}" for k in RequestKind]
        + [f"rstatus_{s.value}" for s in RequestStatus]
        + [f"tamper_{k.value}" for k in Tampering]
    )
    assert set(dynamic) <= set(MESSAGES), set(dynamic) - set(MESSAGES)


def test_translator_formats_and_shows_unknown_keys() -> None:
    en = translator("en")
    assert en("consent_title", app="X") == "Consent for X"
    assert translator("nl")("consent_title", app="X") == "Toestemming voor X"
    assert en("no-such-key") == "no-such-key"


def test_numbers_use_a_decimal_comma_in_dutch() -> None:
    from meterkast.web.i18n import number

    assert number("nl")(1234.56) == "1234,6" and number("en")(1234.56) == "1234.6"
    assert number("nl")(12.0) == "12"


def test_staff_messages_are_merged_once_and_say_the_same_in_both_languages() -> None:
    from meterkast.web.i18n_staff import STAFF_MESSAGES

    assert set(STAFF_MESSAGES) <= set(MESSAGES)
    for key in ("verify_ok", "verify_bad", "deadline_rule", "lookup_help"):
        nl, en = (translator(lang)(key, entries=1, checkpoint="c", seq=2, kind="k", detail="d")
                  for lang in ("nl", "en"))  # fmt: skip
        assert nl != en, key
