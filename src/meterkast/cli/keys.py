"""``meterkast keys ...``: key renewal and an overview of key status (never key bytes)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.keys.domain import Age

keys_app = typer.Typer(help="The crypto-server's meter keys.", no_args_is_help=True)


@keys_app.command("status")
def status(output: Annotated[Format, typer.Option("--format")] = Format.TABLE) -> None:
    """Key counts per meter type, key type and status, with the oldest active key's age."""
    rows = [
        {
            "meter_type": line.meter_type.value,
            "key_type": line.key_type.value,
            "status": line.status.value,
            "count": line.count,
            "oldest_active_days": line.oldest_active_days,
        }
        for line in app_state().keys.status()
    ]
    if output is Format.JSON:
        emit_json(rows)
    else:
        emit_table("meter keys", rows, tuple(rows[0]) if rows else ("meter_type", "count"))


@keys_app.command("rotate")
def rotate(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Renew keys older than this: 30d, 6w, 12m, 1y.")
    ] = "12m",
    output: Annotated[Format, typer.Option("--format")] = Format.TABLE,
) -> None:
    """Renew authentication and encryption keys (two-phase, resumable)."""
    age = Age.parse(older_than)
    state = app_state()
    rotation = state.key_rotation()
    with (
        state.meter_link_held(),
        Progress(console=Console(stderr=True), transient=True) as progress,
    ):
        task = progress.add_task("renewing keys", total=None)
        report = rotation.rotate(
            age, lambda done, total: progress.update(task, completed=done, total=total)
        )
    state.keys.flush()
    row = {
        "due": report.due,
        "renewed": report.renewed,
        "locked": report.locked,
        "failed": report.failed,
    }
    if output is Format.JSON:
        emit_json(row)
    else:
        emit_table("key renewal", [row], tuple(row))
    if report.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
