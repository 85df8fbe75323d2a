"""Commands on an instance that was never initialised say so in one line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterkast.cli.context import app_state
from tests.cli.conftest import Invoke


@pytest.mark.parametrize(
    "command",
    [
        ("connections", "list", "--purpose", "3.8"),
        ("keys", "status"),
        ("parties", "list"),
        ("dsr", "list"),
    ],
)
def test_a_command_before_init_asks_for_init(
    cli: Invoke, home: Path, command: tuple[str, ...]
) -> None:
    home.mkdir(parents=True, exist_ok=True)
    result = cli(*command)
    assert result.exit_code == 2, result.output
    assert "not initialised or not up to date: run `meterkast init`" in result.output
    assert "Traceback" not in result.output and "SELECT" not in result.output


def test_a_missing_instance_folder_is_named(cli: Invoke, home: Path) -> None:
    result = cli("connections", "list", "--purpose", "3.8")
    assert result.exit_code == 2
    assert f"no meterkast instance at {home}" in result.output


def test_after_init_the_same_command_works(cli: Invoke) -> None:
    assert cli("init").exit_code == 0
    assert cli("keys", "status").exit_code == 0
    assert app_state().settings.home.exists()
