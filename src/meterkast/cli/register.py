"""``meterkast register ...``: the processing register (GDPR art. 30) and its exports."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.codes import Role
from meterkast.register import export

register_app = typer.Typer(help="The processing register (GDPR art. 30).", no_args_is_help=True)


class ExportFormat(StrEnum):
    JSON = "json"
    MD = "md"
    HTML = "html"
    FIDESLANG = "fideslang"


_RENDER = {
    ExportFormat.JSON: export.to_json,
    ExportFormat.MD: export.to_markdown,
    ExportFormat.HTML: export.to_html,
    ExportFormat.FIDESLANG: export.to_fideslang_json,
}


@register_app.command("export")
def export_register(
    output_format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.JSON,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Export the register as JSON, Markdown, an HTML page or a fideslang document."""
    text = _RENDER[output_format](app_state().register)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@register_app.command("list")
def list_activities(
    role: Annotated[Role | None, typer.Option(help="Only purposes this role may use.")] = None,
    output: Annotated[Format, typer.Option("--format")] = Format.TABLE,
) -> None:
    """List the activities, optionally only those a role may name as purpose."""
    register = app_state().register
    found = register.for_role(role) if role else register.activities
    rows = [
        {
            "id": a.id,
            "name": a.name,
            "legal_bases": ",".join(b.value for b in a.legal_bases),
            "retention": a.retention.period,
            "roles": ",".join(r.value for r in a.roles),
        }
        for a in found
    ]
    if output is Format.JSON:
        emit_json(rows)
    else:
        emit_table(f"register {register.version}", rows, tuple(rows[0]) if rows else ("id",))


@register_app.command("show")
def show_activity(activity_id: Annotated[str, typer.Argument(help="e.g. 3.4 or A.1")]) -> None:
    """Show one activity in full (JSON)."""
    emit_json(export.activity_record(app_state().register.get(activity_id)))


def register(app: typer.Typer) -> None:
    app.add_typer(register_app, name="register")
