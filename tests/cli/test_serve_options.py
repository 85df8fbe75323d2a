"""``meterkast serve`` keeps request lines (which name a connection's EAN) out of its log."""

from __future__ import annotations

from meterkast.cli.serve import SERVE_OPTIONS


def test_the_access_log_is_off() -> None:
    assert SERVE_OPTIONS["access_log"] is False
    assert SERVE_OPTIONS["loop"] == "uvloop" and SERVE_OPTIONS["http"] == "httptools"
