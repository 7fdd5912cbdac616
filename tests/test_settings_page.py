"""The personal settings page (个人设置): reminder emails, language, password."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from services.api.deps import SESSION_COOKIE
from shared.users import service as users
from shared.users.models import NotifyMode, User
from tests.factories import PASSWORD, World
from tests.test_pages import browser, form_fields, submit

NEW_PASSWORD = "另一个密码-2026"


def reload(app: Any, user: User) -> User:
    with Session(app.state.engine, expire_on_commit=False) as s:
        row = s.get(User, user.id)
        assert row is not None
        return row


def test_every_page_links_to_the_settings_and_strangers_are_sent_to_sign_in(app: Any, world: World) -> None:
    queue = browser(app, world.liaison("XFXH")).get("/queue").text
    assert '<a href="/settings"' in queue and "个人设置" in queue
    r = browser(app).get("/settings")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/settings"


def test_choosing_each_event_emails_and_english(app: Any, world: World) -> None:
    me = world.liaison("XFXH")
    client = browser(app, me)
    page = client.get("/settings")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "汇总提醒" in page.text and "逐条提醒" in page.text and "English" in page.text
    r = submit(client, "/settings", "/settings/preferences", notify_mode="immediate", language="en")
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    saved = reload(app, me)
    assert saved.notify_mode == NotifyMode.IMMEDIATE and saved.language == "en"
    after = client.get("/settings").text
    assert "Settings saved" in after and "Personal settings" in after


def test_a_stale_or_forged_preferences_form_changes_nothing(app: Any, world: World) -> None:
    me = world.liaison("XFXH")
    client = browser(app, me)
    fields = form_fields(client.get("/settings").text, "/settings/preferences")
    other_tab = form_fields(client.get("/settings").text, "/settings/preferences")  # the same version
    assert client.post("/settings/preferences", data={**fields, "language": "en"}).status_code == 303
    stale = client.post("/settings/preferences", data={**other_tab, "notify_mode": "immediate"})
    assert stale.status_code == 412
    resent = client.post("/settings/preferences", data={**fields, "notify_mode": "immediate"})  # a used form
    assert resent.status_code == 303
    forged = client.post("/settings/preferences", data={"version": "2", "notify_mode": "immediate"})
    assert forged.status_code == 403
    bad = client.post("/settings/preferences", data={**form_fields(client.get("/settings").text,
                                                                   "/settings/preferences"), "language": "fr"})
    assert bad.status_code == 422
    assert reload(app, me).notify_mode == NotifyMode.DIGEST


def test_changing_the_password_on_the_page_keeps_this_session_and_ends_the_others(app: Any, world: World) -> None:
    me = world.liaison("XFXH")
    client, elsewhere = browser(app, me), browser(app, me)
    wrong = submit(client, "/settings", "/settings/password", current_password="not-it",
                   new_password=NEW_PASSWORD, new_password_confirm=NEW_PASSWORD)
    assert wrong.status_code == 422 and "与当前密码不符" in wrong.text
    mismatch = submit(client, "/settings", "/settings/password", current_password=PASSWORD,
                      new_password=NEW_PASSWORD, new_password_confirm="something-else")
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text

    r = submit(client, "/settings", "/settings/password", current_password=PASSWORD,
               new_password=NEW_PASSWORD, new_password_confirm=NEW_PASSWORD)
    assert r.status_code == 303
    assert "密码已修改" in client.get("/settings").text
    assert elsewhere.get("/queue").status_code == 303  # signed out there
    api = TestClient(app, raise_server_exceptions=False)
    assert api.post("/api/v1/auth/login", json={"username": me.username, "password": NEW_PASSWORD}).status_code == 200
    assert client.cookies.get(SESSION_COOKIE)


def test_the_password_form_needs_the_form_token(app: Any, world: World) -> None:
    me = world.liaison("XFXH")
    client = browser(app, me)
    r = client.post("/settings/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                "new_password_confirm": NEW_PASSWORD})
    assert r.status_code == 403
    with Session(app.state.engine) as s:
        assert users.authenticate(s, app.state.clock, app.state.settings, me.username, PASSWORD).id == me.id


def test_guessing_the_current_password_on_the_page_is_throttled_like_a_sign_in(app: Any, world: World) -> None:
    client = browser(app, world.liaison("XFXH"))
    statuses = []
    for i in range(7):
        r = submit(client, "/settings", "/settings/password", current_password=f"guess-{i}",
                   new_password=NEW_PASSWORD, new_password_confirm=NEW_PASSWORD)
        statuses.append(r.status_code)
    assert statuses[:5] == [422] * 5 and statuses[-1] == 429
    assert int(r.headers["Retry-After"]) >= 1 and "登录失败次数过多" in r.text
