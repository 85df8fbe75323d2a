"""Baselines for the API benchmark, served the same way as the real application.

``/bare`` is a bare FastAPI JSON endpoint (a plain function: FastAPI runs it in the thread pool),
``/bare-async`` the same as a coroutine (answered in the event loop, as the readings path now is).
``/answer`` returns a real 24-month answer's bytes, recorded once from the real server
(``METERKAST_BENCH_ANSWER`` names the file): no token, no decision, no store, no encoding - only
the transfer of an answer of the real size, which the same closed-loop client must also receive: it
shows whether moving the bytes limits the real endpoint (measured: it does not; it runs at about
three times the bare endpoint).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

app = FastAPI()
_ANSWER = os.environ.get("METERKAST_BENCH_ANSWER")
_BODY = Path(_ANSWER).read_bytes() if _ANSWER else b"{}"


@app.get("/bare")
def bare() -> dict[str, object]:
    return {"status": "ok", "readings": []}


@app.get("/bare-async")
async def bare_async() -> dict[str, object]:
    return {"status": "ok", "readings": []}


@app.get("/answer")
async def answer() -> Response:
    return Response(_BODY, media_type="application/json")
