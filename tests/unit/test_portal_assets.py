"""Portal assets: nothing from outside, and colour pairs that people can read (WCAG 2 AA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import meterkast.web

WEB = Path(meterkast.web.__file__).parent
ASSETS = [*WEB.glob("templates/*.html"), *WEB.glob("static/*")]


def _variables() -> dict[str, str]:
    css = (WEB / "static" / "portal.css").read_text()
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))


def _luminance(colour: str) -> float:
    hexes = colour.lstrip("#")
    if len(hexes) == 3:
        hexes = "".join(c * 2 for c in hexes)
    channels = [int(hexes[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("#000", "#fff"), 1) == 21.0 and contrast("#777", "#777") == 1.0


@pytest.mark.parametrize(
    ("fg", "bg", "minimum"),
    [
        ("ink", "bg", 4.5),
        ("accent", "bg", 4.5),
        ("muted", "bg", 4.5),
        ("alert", "bg", 4.5),
        ("import", "bg", 3.0),
        ("export", "bg", 3.0),
        ("line", "bg", 1.3),
        ("alert", "alert-bg", 4.5),  # overdue requests and the first bad audit entry
        ("ink", "alert-bg", 4.5),
        ("accent", "alert-bg", 4.5),
        ("export", "bg", 4.5),  # the "audit log verifies" status is text in this colour
    ],
)
def test_colour_pairs_are_readable(fg: str, bg: str, minimum: float) -> None:
    colours = _variables()
    assert contrast(colours[fg], colours[bg]) >= minimum, (fg, bg)


def test_white_on_the_accent_button_is_readable() -> None:
    assert contrast("#ffffff", _variables()["accent"]) >= 4.5


def test_no_asset_points_outside() -> None:
    assert len(ASSETS) >= 16  # the customer's and the staff pages
    assert {"officer_audit.html", "officer_requests.html", "service_connection.html"} <= {
        p.name for p in ASSETS
    }
    for path in ASSETS:
        text = path.read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text), path.name
        assert "<script" not in text, path.name


def test_focus_is_always_visible() -> None:
    css = (WEB / "static" / "portal.css").read_text()
    assert re.search(r":focus-visible\s*{[^}]*outline:\s*3px solid", css)
    assert "outline: none" not in css.replace("main:focus { outline: none; }", "")


def test_every_form_field_has_a_label() -> None:
    for path in WEB.glob("templates/*.html"):
        text = path.read_text()
        ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', text))
        fields = re.findall(r"<(?:input|select|textarea)\b[^>]*>", text)
        for field in fields:
            if 'type="hidden"' in field:
                continue
            if not re.search(r'\bid="([^"]+)"', field):  # then it sits inside its label
                wrapped = re.findall(r"<label[^>]*>(.*?)</label>", text, flags=re.DOTALL)
                assert any(field in block for block in wrapped), (path.name, field)
        labelled = set(re.findall(r'<label for="([^"]+)"', text))
        assert ids <= labelled, (path.name, ids - labelled)
