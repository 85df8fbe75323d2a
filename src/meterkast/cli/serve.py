"""``meterkast serve`` runs the API and the portal; ``meterkast demo-access`` prepares a tour."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
import uvicorn

from meterkast.cli.context import app_state
from meterkast.demo import prepare_tour

# uvicorn's access log writes every request line, and a readings URL names the connection's EAN
# (personal data): off. Problems and errors are logged by the application without it.
SERVE_OPTIONS: dict[str, object] = {"loop": "uvloop", "http": "httptools", "log_level": "info",
                                    "access_log": False, "proxy_headers": False}  # fmt: skip


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Worker processes.")] = 1,
) -> None:
    """Serve the REST API (/api/v1, /docs) and the household portal (/portal)."""
    state = app_state()
    state.init()
    options = {"host": host, "port": port, **SERVE_OPTIONS}
    if workers == 1:
        uvicorn.run(state.web_app(), **options)  # type: ignore[arg-type]
    else:
        uvicorn.run("meterkast.api.asgi:create", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def demo_access(
    base_url: Annotated[str, typer.Option(help="Where `meterkast serve` listens.")] = (
        "http://127.0.0.1:8000"
    ),
) -> None:
    """Pick a household, its supplier and an app; give the app a grant; print tokens to try."""
    state = app_state()
    tour = prepare_tour(state, ttl=timedelta(hours=8))
    typer.echo(tour.explain(base_url))


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("demo-access")(demo_access)
