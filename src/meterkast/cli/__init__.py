"""The ``meterkast`` command line. Commands stay thin: parse, call a service, print."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import exc as sa_exc
from typer.core import TyperGroup

from meterkast import __version__
from meterkast.cli import (
    area,
    audit,
    dsr,
    fleet,
    grid,
    keys,
    parties,
    portal,
    readings,
    serve,
    token,
)
from meterkast.cli import register as register_cli
from meterkast.cli.context import app_state
from meterkast.db.migrate import is_current
from meterkast.kernel.errors import DomainError


class _Group(TyperGroup):
    """Maps domain errors, anywhere below, to one line on stderr and exit code 2."""

    def invoke(self, ctx: Any) -> Any:  # click.Context, vendored by typer
        try:
            return super().invoke(ctx)
        except DomainError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
        except sa_exc.DBAPIError as error:
            # A database that was never initialised (or is behind) is the usual cause: say so in
            # one line instead of a traceback; a real database fault is raised as it is.
            typer.echo(f"error: {_database_problem(error)}", err=True)
            raise typer.Exit(2) from None


def _database_problem(error: sa_exc.DBAPIError) -> str:
    state = app_state()
    if not state.settings.home.exists():
        return f"no meterkast instance at {state.settings.home}: run `meterkast init`"
    try:
        current = is_current(state.engine)
    except sa_exc.DBAPIError:
        return "the database cannot be reached or refused the connection (METERKAST_DATABASE_URL)"
    if not current:
        return "this instance's database is not initialised or not up to date: run `meterkast init`"
    raise error


app = typer.Typer(
    cls=_Group,
    help="meterkast: privacy-first data platform for Dutch grid operators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"meterkast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    _version_flag: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """meterkast: privacy-first data platform for Dutch grid operators."""


@app.command()
def init() -> None:
    """Create the instance folder and bring the database schema up to date."""
    state = app_state()
    state.init()
    typer.echo(f"instance ready in {state.settings.home} ({state.engine.dialect.name})")


fleet.register(app)
grid.register(app)
keys.register(app)
parties.register(app)
area.register(app)
register_cli.register(app)
serve.register(app)
dsr.register(app)
audit.register(app)
token.register(app)
readings.register(app)
portal.register(app)


def main() -> None:
    app()
