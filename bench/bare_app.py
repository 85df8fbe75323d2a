"""The baseline for the API benchmark: a bare FastAPI JSON endpoint, served the same way."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
def bare() -> dict[str, object]:
    return {"status": "ok", "readings": []}
