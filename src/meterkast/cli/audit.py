"""``meterkast audit ...``: check the audit log's chain and sign its head."""

from __future__ import annotations

import typer

from meterkast.cli.context import app_state

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Walk the whole hash chain and its signed checkpoints; exit 1 at the first bad entry.

    The result is recorded: the officer's audit page then walks only the entries after it.
    """
    verdict = app_state().audit_checks.full().verdict
    last = verdict.last_checkpoint
    where = f"last checkpoint at {last}" if last is not None else "no checkpoint yet"
    if verdict.ok:
        typer.echo(f"ok: {verdict.entries} entries, {where}")
        return
    kind = verdict.tampering.value if verdict.tampering else "bad"
    typer.echo(f"FAILED at entry {verdict.first_bad} ({kind}): {verdict.detail}", err=True)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of the current head now (also done every N entries)."""
    signed = app_state().audit.checkpoint()
    if signed is None:
        typer.echo("the audit log is empty: nothing to sign")
    else:
        typer.echo(f"checkpoint at {signed.seq} signed by key {signed.key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
