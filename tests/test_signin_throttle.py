"""Sign-in throttling: an attacker is slowed, the real user still gets in, every 429 says when to retry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from shared.users.models import Role, User
from shared.users.throttle import delay_after
from tests.factories import PASSWORD, World
from tests.test_pages import form_fields

ATTACKER = ("203.0.113.66", 40000)
OFFICE = ("198.51.100.7", 40000)


def client_at(app: Any, address: tuple[str, int], lang: str = "zh-CN") -> TestClient:
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False, client=address,
                      headers={"Accept-Language": lang})


def login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_delay_doubles_after_the_free_failures_up_to_the_cap() -> None:
    assert [delay_after(n, 5, 900) for n in range(4, 9)] == [0, 1, 2, 4, 8]
    assert delay_after(40, 5, 900) == 900


def test_an_attacker_hammering_admin_does_not_lock_admin_out(app: Any, world: World, clock: Any) -> None:
    attacker = client_at(app, ATTACKER)
    answers = [login(attacker, "admin", f"guess-{i}") for i in range(12)]
    assert [r.status_code for r in answers[:5]] == [401] * 5
    throttled = [r for r in answers if r.status_code == 429]
    assert throttled, "the attacker was never slowed"
    for r in throttled:
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["message"].startswith("登录失败次数过多")
    # The right password from the attacker's address is refused too while it must wait …
    assert login(attacker, "admin", PASSWORD).status_code == 429
    # … but admin at his own desk signs in at once.
    r = login(client_at(app, OFFICE), "admin", PASSWORD)
    assert r.status_code == 200, r.text
    # And waiting as long as Retry-After says is enough; nothing stays locked.
    wait = int(login(attacker, "admin", "again").headers["Retry-After"])
    clock.advance(timedelta(seconds=wait))
    assert login(attacker, "admin", PASSWORD).status_code == 200


def test_waits_grow_with_each_failure(app: Any, world: World, clock: Any) -> None:
    attacker = client_at(app, ATTACKER)
    waits = []
    for i in range(9):
        r = login(attacker, "coordinator", f"guess-{i}")
        if r.status_code == 429:
            wait = int(r.headers["Retry-After"])
            waits.append(wait)
            clock.advance(timedelta(seconds=wait))
            assert login(attacker, "coordinator", f"late-{i}").status_code == 401
    assert waits == sorted(waits) and waits[-1] > waits[0]


def test_spraying_one_password_across_30_accounts_is_stopped(app: Any, world: World, session: Session,
                                                             clock: Any) -> None:
    base = world.liaison("XFXH")
    for i in range(30):
        session.add(User(username=f"staff{i:02d}", name=f"职员{i}", email=f"staff{i}@gov.example",
                         department_id=base.department_id, role=Role.LIAISON, password_hash=base.password_hash,
                         created_at=clock.now()))
    session.commit()
    sprayer = client_at(app, ATTACKER, lang="en")
    codes = [login(sprayer, f"staff{i:02d}", "Password1").status_code for i in range(30)]
    assert 429 in codes
    first = codes.index(429)
    assert all(c == 429 for c in codes[first:])
    r = login(sprayer, "staff29", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 60
    assert r.json()["error"]["message"].startswith("Too many failed sign-ins; try again in")
    # Another address is not affected by the sprayer.
    assert login(client_at(app, OFFICE), "staff29", PASSWORD).status_code == 200


def test_the_page_login_answers_429_with_retry_after(app: Any, world: World) -> None:
    browser = client_at(app, ATTACKER)
    statuses = []
    for i in range(8):
        page = browser.get("/login")
        r = browser.post("/login", data={**form_fields(page.text, "/login"), "username": "admin",
                                         "password": f"guess-{i}"})
        statuses.append(r.status_code)
    assert statuses[-1] == 429
    assert int(r.headers["Retry-After"]) >= 1 and "登录失败次数过多" in r.text
    page = client_at(app, OFFICE).get("/login")
    office = client_at(app, OFFICE)
    page = office.get("/login")
    r = office.post("/login", data={**form_fields(page.text, "/login"), "username": "admin", "password": PASSWORD})
    assert r.status_code == 303


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_throttle_message_in_both_languages(app: Any, world: World, lang: str) -> None:
    attacker = client_at(app, ATTACKER, lang=lang)
    for i in range(6):
        r = login(attacker, "leader", f"guess-{i}")
    assert r.status_code == 429
    expected = {"zh-CN": "登录失败次数过多，请 1 秒后再试", "en": "Too many failed sign-ins; try again in 1 s"}
    assert r.json()["error"]["message"] == expected[lang]
