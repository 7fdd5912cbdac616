"""Routers that turn a request away at once when its path is none of theirs.

FastAPI (0.140 and later) matches a request by asking every included router in
turn, and each asks every one of its routes, with bookkeeping per route: a page
request tried all ~90 API routes before reaching the pages, a tenth of the
Python time of the case page under load, and /cases then tried the routes of
five page modules before its own.  A ``PathGate`` makes that one string test
per router: the API's routers are gated by the API's prefix, a page module's by
the first segments of its own routes (/cases, /queue …).  A gate only ever says
"not mine" when none of its prefixes is anywhere in the path, so it cannot turn
away a request one of its routes would take (a path under a root_path still
holds them), and a route whose first segment is a parameter opens the gate for
every path.  Versions of FastAPI that copy included routes into the app never
call ``matches`` on a router, and then the gate does nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


class PathGate(APIRouter):
    def __init__(self, gate: str | None = None, **kwargs: Any) -> None:
        """GATE: the prefix every path of this router holds; None: the first segments of its routes."""
        super().__init__(**kwargs)
        self.gate = gate
        self._derived: tuple[int, tuple[str, ...] | None] = (-1, None)

    def gates(self) -> tuple[str, ...] | None:
        """What a path must hold to be this router's, or None when any path may be."""
        if self.gate is not None:
            return (self.gate,)
        if self._derived[0] != len(self.routes):
            self._derived = (len(self.routes), _first_segments(self.routes))
        return self._derived[1]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        gates, path = self.gates(), scope.get("path", "")
        if gates is not None and not any(gate in path for gate in gates):
            return Match.NONE, {}
        return super().matches(scope)  # type: ignore[no-any-return,misc]


def _first_segments(routes: list[BaseRoute]) -> tuple[str, ...] | None:
    segments = set()
    for route in routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            return None  # a mount or an included router: no gate
        first = "/" + path.split("/")[1] if path.count("/") else path
        if "{" in first:
            return None
        segments.add(first)
    return tuple(sorted(segments))
