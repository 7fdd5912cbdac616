"""The JSON API's routers: every module here that defines ``router`` is served under API_PREFIX (app.py)."""

from __future__ import annotations

from typing import Any

from services.api.path_gate import PathGate

API_PREFIX = "/api/v1"


def api_router(**kwargs: Any) -> PathGate:
    """An API module's router: an APIRouter that turns away, at once, any path outside the API."""
    return PathGate(API_PREFIX, **kwargs)
