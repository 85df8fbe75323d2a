"""``meterkast keys``: status counts and renewal, from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterkast.bootstrap import App, bootstrap
from meterkast.cli import app as cli
from meterkast.kernel.codes import MeterType


@pytest.fixture
def state(home: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    app = bootstrap()
    app.init()
    monkeypatch.setattr("meterkast.cli.keys.app_state", lambda: app)
    return app


def test_status_counts_per_type_and_status(state: App) -> None:
    transport = os.urandom(16)
    state.keys.provision("E1", MeterType.ELECTRICITY, b"CLI00001", transport)
    state.keys.provision("E2", MeterType.ELECTRICITY, b"CLI00002", transport)
    state.keys.provision("G1", MeterType.GAS, b"CLI00003", transport)
    result = CliRunner().invoke(cli, ["keys", "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    counts = {(r["meter_type"], r["key_type"], r["status"]): r["count"] for r in rows}
    assert counts == {
        ("electricity", "authentication", "active"): 2,
        ("electricity", "encryption", "active"): 2,
        ("electricity", "master", "active"): 2,
        ("gas", "encryption", "active"): 1,
        ("gas", "master", "active"): 1,
    }
    assert {r["oldest_active_days"] for r in rows} == {0}
    table = CliRunner().invoke(cli, ["keys", "status"])
    assert table.exit_code == 0 and "authentication" in table.output


def test_status_of_an_empty_instance(state: App) -> None:
    result = CliRunner().invoke(cli, ["keys", "status", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_rotate_goes_to_the_fleet_and_needs_a_valid_age(state: App) -> None:
    result = CliRunner().invoke(cli, ["keys", "rotate", "--format", "json"])
    assert result.exit_code == 0, result.output  # no meters yet: nothing due
    assert json.loads(result.stdout) == {"due": 0, "renewed": 0, "locked": 0, "failed": 0}
    result = CliRunner().invoke(cli, ["keys", "rotate", "--older-than", "soon"])
    assert result.exit_code == 2
    assert "30d, 6w, 12m or 1y" in result.output
