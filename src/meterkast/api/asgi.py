"""ASGI entry for several workers: ``uvicorn --factory meterkast.api.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from meterkast.bootstrap import bootstrap


def create() -> FastAPI:
    return bootstrap().web_app()
