"""Every CLI command is bound to a register activity, and personal data needs a purpose."""

from __future__ import annotations

import typer

from meterkast.cli import app
from meterkast.cli.binding import COMMANDS
from tests.cli.conftest import Invoke


def _paths(command: object, prefix: str = "") -> list[str]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [prefix]
    out = []
    for name, sub in subcommands.items():
        out += _paths(sub, f"{prefix} {name}".strip())
    return out


def test_every_command_is_bound() -> None:
    paths = set(_paths(typer.main.get_command(app)))
    assert paths == set(COMMANDS), (
        f"unbound: {paths - set(COMMANDS)}; stale: {set(COMMANDS) - paths}"
    )


def test_personal_data_commands_need_a_fitting_purpose(cli: Invoke) -> None:
    assert cli("generate", "--connections", "20", "--seed", "1").exit_code == 0
    missing = cli("connections", "list")
    assert missing.exit_code == 2 and "--purpose" in missing.output
    wrong = cli("connections", "list", "--purpose", "1.7")
    assert wrong.exit_code == 2 and "not one" in wrong.output
    assert cli("connections", "list", "--purpose", "3.8").exit_code == 0
