"""Passwords and sessions: changing a password ends the other sessions; one cookie, set one way."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.api.app import create_app
from services.api.deps import SESSION_COOKIE
from shared.users import service as users
from shared.users.models import User
from tests.factories import PASSWORD, World
from tests.test_pages import form_fields

NEW_PASSWORD = "新的密码-2026-secure"


def token_for(app: Any, user: User) -> str:
    with Session(app.state.engine, expire_on_commit=False) as s:
        token = users.issue_token(s, app.state.clock, app.state.settings, user)
        s.commit()
    return token


def bearer(app: Any, token: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"})


def cookie_client(app: Any, token: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    return client


def sign_in(app: Any, username: str, password: str) -> int:
    r = TestClient(app, raise_server_exceptions=False).post(
        "/api/v1/auth/login", json={"username": username, "password": password})
    return r.status_code


def test_changing_my_password_ends_my_other_sessions_and_keeps_this_one(app: Any, world: World) -> None:
    me = world.liaison("XFXH")
    this, other_api, other_page = (token_for(app, me) for _ in range(3))
    client = bearer(app, this)
    wrong = client.post("/api/v1/me/password", json={"current_password": "not-it", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "current_password"
    assert bearer(app, other_api).get("/api/v1/me").status_code == 200  # a refused change ends nothing

    r = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    assert client.get("/api/v1/me").status_code == 200
    assert bearer(app, other_api).get("/api/v1/me").status_code == 401
    assert cookie_client(app, other_page).get("/queue").status_code == 303  # back to the sign-in page
    assert sign_in(app, me.username, PASSWORD) == 401
    assert sign_in(app, me.username, NEW_PASSWORD) == 200


def test_the_new_password_must_be_new_and_long_enough(app: Any, world: World) -> None:
    client = bearer(app, token_for(app, world.liaison("XFXH")))
    same = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422 and same.json()["error"]["fields"][0]["field"] == "new_password"
    short = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422


def test_an_admin_reset_ends_every_session_of_that_user(app: Any, world: World) -> None:
    victim = world.liaison("GAJ")
    api_token, page_token = token_for(app, victim), token_for(app, victim)
    admin = bearer(app, token_for(app, world.admin))
    r = admin.patch(f"/api/v1/users/{victim.id}", json={"password": NEW_PASSWORD}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert bearer(app, api_token).get("/api/v1/me").status_code == 401
    assert cookie_client(app, page_token).get("/queue").status_code == 303
    assert admin.get("/api/v1/me").status_code == 200  # the admin's own session is not touched
    assert sign_in(app, victim.username, NEW_PASSWORD) == 200


def _cookie_header(response: Any) -> str:
    [header] = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(SESSION_COOKIE)]
    return header.lower()


@pytest.mark.parametrize("base_url", ["https://gongzhi.example.gov.cn", "http://127.0.0.1:8000"])
def test_api_and_page_sign_in_set_the_same_cookie(settings: Any, engine: Any, clock: Any, world: World,
                                                  base_url: str) -> None:
    app = create_app(settings.model_copy(update={"base_url": base_url}), engine=engine, clock=clock)
    served_at = "https://testserver" if base_url.startswith("https://") else "http://testserver"
    api = TestClient(app, base_url=served_at).post("/api/v1/auth/login",
                                                   json={"username": "liaison_xfxh", "password": PASSWORD})
    browser = TestClient(app, base_url=served_at, follow_redirects=False)
    page = browser.get("/login")
    form = browser.post("/login", data={**form_fields(page.text, "/login"), "username": "liaison_xfxh",
                                        "password": PASSWORD})
    assert form.status_code == 303
    for header in (_cookie_header(api), _cookie_header(form)):
        attributes = {part.strip().split("=")[0] for part in header.split(";")[1:]}
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "samesite=lax" in header
        assert ("secure" in attributes) is base_url.startswith("https://")
    strip = [{p.strip().split("=")[0] for p in h.split(";")[1:]} for h in (_cookie_header(api), _cookie_header(form))]
    assert strip[0] == strip[1]
