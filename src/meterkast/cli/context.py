"""The CLI's handle on the composition root, built once per process on first use."""

from __future__ import annotations

from functools import cache

from meterkast.bootstrap import App, bootstrap


@cache
def app_state() -> App:
    return bootstrap()
