"""``meterkast dsr ...``: data-subject requests (register activity A.5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.clock import local_day
from meterkast.kernel.errors import InvalidValueError
from meterkast.rights.domain import RequestKind
from meterkast.rights.service import export_html

dsr_app = typer.Typer(help="Data-subject requests: track, export, withdraw consent.",
                      no_args_is_help=True)  # fmt: skip


@dsr_app.command("submit")
def submit(
    customer: Annotated[str, typer.Option(help="Customer id, e.g. C00000001.")],
    kind: Annotated[RequestKind, typer.Option(help="What the person asks for.")],
) -> None:
    """Register a request; its deadline is one month after receipt."""
    request = app_state().rights.submit(customer, kind)
    typer.echo(f"request {request.id} ({request.kind.value}) due {request.deadline}")


@dsr_app.command("list")
def list_requests(
    open_only: Annotated[
        bool, typer.Option("--open", help="Only requests not yet closed.")
    ] = False,
    output: Annotated[Format, typer.Option("--format")] = Format.TABLE,
) -> None:
    """Requests by deadline; overdue ones are marked."""
    state = app_state()
    today = local_day(state.clock())
    rows = [{"id": r.id, "customer": r.customer_id, "kind": r.kind.value,
             "status": r.status.value, "received": r.received_on.isoformat(),
             "deadline": r.deadline.isoformat(), "overdue": r.overdue(today)}
            for r in state.rights.requests(open_only=open_only)]  # fmt: skip
    if output is Format.JSON:
        emit_json(rows)
    else:
        emit_table("data-subject requests", rows, list(rows[0]) if rows else ["id"])


@dsr_app.command("export")
def export(
    customer: Annotated[str, typer.Option(help="Customer id, e.g. C00000001.")],
    officer: Annotated[str, typer.Option(help="The privacy officer running it, e.g. PO01.")],
    request: Annotated[
        str | None,
        typer.Option(help="The access request it answers (default: the customer's open one)."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="json or html")] = "json",
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Everything held about a person (GDPR art. 15), as JSON or a readable HTML page.

    It answers a registered access request: the officer is named in the audit log and the
    customer's access log shows the export as the officer's, for that request.
    """
    if output_format not in ("json", "html"):
        raise InvalidValueError("--format must be json or html")
    state = app_state()
    request_id = request or _open_access_request(customer)
    if state.rights.get(request_id).customer_id != customer:
        raise InvalidValueError(f"request {request_id} is not a request of {customer}")
    data = state.request_desk.export(officer, request_id, output_format)
    text = export_html(data) if output_format == "html" else json.dumps(data, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        output.chmod(0o600)  # personal data: readable by its owner only
        typer.echo(f"written to {output}")


def _open_access_request(customer: str) -> str:
    open_access = [r for r in app_state().rights.requests(open_only=True)
                   if r.customer_id == customer and r.kind is RequestKind.ACCESS]  # fmt: skip
    if not open_access:
        raise InvalidValueError(
            f"no open access request of {customer}: register one first with"
            f" `meterkast dsr submit --customer {customer} --kind access`"
        )
    return open_access[0].id


@dsr_app.command("withdraw-consent")
def withdraw_consent(customer: Annotated[str, typer.Option(help="Customer id.")]) -> None:
    """Withdraw every consent of a person at once: all their grants are revoked."""
    typer.echo(f"revoked {app_state().rights.withdraw_all_consent(customer)} grant(s)")


@dsr_app.command("rectify")
def rectify(
    customer: Annotated[str, typer.Option(help="Customer id.")],
    email: Annotated[str | None, typer.Option(help="New e-mail address ('' clears it).")] = None,
    phone: Annotated[str | None, typer.Option(help="New phone number ('' clears it).")] = None,
) -> None:
    """Correct a person's contact data."""
    app_state().rights.rectify(customer, email=email, phone=phone)
    typer.echo("contact data corrected")


@dsr_app.command("object")
def object_to(
    customer: Annotated[str, typer.Option(help="Customer id.")],
    activity: Annotated[str, typer.Option(help="Register activity id, e.g. 4.4.")],
) -> None:
    """Object to a legitimate-interest activity; refused, with the reason, for others."""
    request = app_state().rights.object_to(customer, activity)
    typer.echo(f"{request.status.value}: {request.note}")


@dsr_app.command("erase")
def erase(customer: Annotated[str, typer.Option(help="Customer id.")]) -> None:
    """Erase what no legal duty keeps; print, per category, what stays and why."""
    lines = app_state().rights.erase(customer)
    emit_table("erasure", [{"category": x.category, "outcome": x.outcome, "reason": x.reason}
                           for x in lines], ("category", "outcome", "reason"))  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(dsr_app, name="dsr")
