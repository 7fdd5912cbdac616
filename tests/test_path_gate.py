"""A request asks only the routers whose paths it could be (services/api/path_gate.py), and every one still answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.api.app import _routers
from services.api.path_gate import PathGate
from services.api.routes import API_PREFIX


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[APIRoute]:
    """Every route asked whether a request is its own, in order."""
    seen: list[APIRoute] = []
    original = APIRoute.matches

    def counting(self: APIRoute, scope: Any) -> Any:
        seen.append(self)
        return original(self, scope)

    monkeypatch.setattr(APIRoute, "matches", counting)
    return seen


def test_every_api_router_is_gated() -> None:
    routers = _routers()
    assert len(routers) > 10
    assert all(isinstance(r, PathGate) and r.gate == API_PREFIX for r in routers)


def test_a_page_asks_no_api_route_and_an_api_call_still_finds_its_own(app: Any, asked: list[APIRoute]) -> None:
    client = TestClient(app, follow_redirects=False)
    assert client.get("/login").status_code == 200
    api_routes = [route for router in _routers() for route in router.routes]
    assert asked and not [r.path for r in asked if r in api_routes]
    asked.clear()
    assert client.get(f"{API_PREFIX}/queue").status_code == 401  # found, and asks for a sign-in
    assert [r for r in asked if r in api_routes and r.path == "/queue"]
    assert client.get(f"{API_PREFIX}/no-such-thing").json()["error"]["code"] == "route_not_found"


def test_a_page_asks_only_the_page_modules_whose_paths_it_could_be(app: Any, asked: list[APIRoute]) -> None:
    from services.api.pages import cases, inspections, queue

    client = TestClient(app, follow_redirects=False)
    assert client.get("/queue").status_code == 303  # found (it asks for a sign-in)
    ids = {id(r) for r in asked}
    assert ids & {id(r) for r in queue.router.routes}
    assert not ids & {id(r) for r in [*cases.router.routes, *inspections.router.routes]}


def test_a_router_whose_first_segment_is_a_parameter_is_never_gated() -> None:
    router = PathGate()
    router.add_api_route("/cases/{case_id}", lambda case_id: None)
    assert router.gates() == ("/cases",)
    router.add_api_route("/{anything}", lambda anything: None)
    assert router.gates() is None


def test_behind_a_path_prefix_both_still_answer(app: Any) -> None:
    client = TestClient(app, root_path="/gongzhi", follow_redirects=False)
    assert client.get("/gongzhi/login").status_code == 200
    assert client.get(f"/gongzhi{API_PREFIX}/queue").status_code == 401
    assert client.get("/gongzhi/queue").status_code == 303
