"""Calendar feeds (ICS): made and revoked on /settings, read by calendar programs at a secret address.

The feed is parsed back with the `icalendar` library, as a calendar program would
read it.  SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, select

from shared.assignments.models import Assignment
from shared.calendar_feeds.models import CalendarFeed
from shared.users.models import Role, User
from tests.factories import World
from tests.relay_kicks import counting_kicks
from tests.test_inspection_pages import plan, schedule_form
from tests.test_pages import browser, form_fields

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADDRESS = re.compile(r"http://[^\s<]+/ics/([A-Za-z0-9_-]{43})\.ics")


@pytest.fixture(autouse=True)
def kicks(app: Any) -> Iterator[list[int]]:
    with counting_kicks() as calls:
        yield calls


def make_feed(client: TestClient, kind: str = "user") -> str:
    """Press the button on /settings; the address is shown once, on the page the post leads to."""
    page = client.get("/settings").text
    forms = re.findall(r'<form method="post" action="/settings/feeds" class="inline">(.*?)</form>', page, re.S)
    form = next(f for f in forms if f'name="kind" value="{kind}"' in f)
    token = re.search(r'name="csrf_token" value="([^"]*)"', form)
    assert token
    r = client.post("/settings/feeds", data={"csrf_token": token.group(1), "kind": kind})
    assert r.status_code == 303, r.text
    shown = client.get("/settings").text
    m = ADDRESS.search(shown)
    assert m, "the new address is shown"
    assert not ADDRESS.search(client.get("/settings").text), "and only once"
    return f"/ics/{m.group(1)}.ics"


def events_of(body: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def scheduled(app: Any, world: World, make_case: Any) -> tuple[int, Any]:
    case = make_case()
    r = schedule_form(browser(app, world.coordinator), **plan(world, case))
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1]), case


def test_a_liaisons_feed_has_the_inspection_and_his_deadline_at_local_time(
        app: Any, world: World, make_case: Any, dispatch: Any) -> None:
    inspection_id, case = scheduled(app, world, make_case)
    police = browser(app, world.liaison("GAJ"))
    url = make_feed(police)
    r = browser(app).get(url)  # no session: the address is the key
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.headers["cache-control"] == "no-store"

    cal = Calendar.from_ical(r.content)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    found = events_of(r.content)
    inspection = next(e for uid, e in found.items() if uid.startswith(f"inspection-{inspection_id}@"))
    assert inspection.decoded("DTSTART") == date(2026, 12, 10)
    assert inspection.decoded("DTEND") == date(2026, 12, 11)
    assert str(inspection["LOCATION"]) == "鼓楼区中山路88号"
    assert "预付卡门店联合检查" in str(inspection["SUMMARY"])
    assert str(inspection["STATUS"]) == "CONFIRMED"

    with Session(app.state.engine) as s:
        mine = s.exec(select(Assignment).where(Assignment.inspection_id == inspection_id,
                                               Assignment.department_id == world.dept("GAJ").id)).one()
        others = s.exec(select(Assignment).where(Assignment.inspection_id == inspection_id,
                                                 Assignment.department_id != world.dept("GAJ").id)).all()
    deadline = found[next(uid for uid in found if uid.startswith(f"assignment-{mine.id}-feedback-due@"))]
    due = deadline.decoded("DTSTART")
    assert due.tzinfo is not None and str(due.tzinfo) == "Asia/Shanghai"
    assert due == mine.feedback_due_at  # the same instant …
    assert (due.hour, due.minute) == (17, 30)  # … shown at close of business, Shanghai time
    assert due.date() == mine.feedback_due_at.astimezone(SHANGHAI).date()
    assert b"TZID=Asia/Shanghai:" in r.content
    assert case.reference in str(deadline["SUMMARY"])
    # Other departments' deadlines are theirs, not his.
    assert not any(uid.startswith(f"assignment-{a.id}-") for a in others for uid in found)
    # No complainant data, nor the free text that might carry some.
    text = r.content.decode()
    for secret in ("张三", "13812345678", "11010119900307451X", "中山路1号", case.title):
        assert secret not in text
    # The UIDs are the objects', not the fetch's.
    assert set(events_of(browser(app).get(url).content)) == set(found)


def test_a_department_feed_is_made_by_its_head_only(app: Any, world: World, make_case: Any) -> None:
    inspection_id, _case = scheduled(app, world, make_case)
    head = browser(app, world.head("TYJ"))
    url = make_feed(head, "department")
    found = events_of(browser(app).get(url).content)
    assert any(uid.startswith(f"inspection-{inspection_id}@") for uid in found)
    assert sum(uid.startswith("assignment-") for uid in found) == 1  # the sports bureau's one

    liaison = browser(app, world.liaison("TYJ"))
    assert 'value="department"' not in liaison.get("/settings").text
    page = liaison.get("/settings").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.split('action="/settings/feeds"', 1)[1])
    assert token
    r = liaison.post("/settings/feeds", data={"csrf_token": token.group(1), "kind": "department"})
    assert r.status_code == 303 and "无权执行此操作" in liaison.get("/settings").text
    with Session(app.state.engine) as s:
        assert [f.kind for f in s.exec(select(CalendarFeed))] == ["department"]

    # A head who moves on takes his department's feed with him.
    with Session(app.state.engine) as s:
        row = s.get(User, world.head("TYJ").id)
        assert row is not None
        row.role = Role.LIAISON
        s.commit()
    assert browser(app).get(url).status_code == 404


def test_an_uninvolved_departments_feed_shows_nothing_of_it_and_tokens_are_only_hashes(
        app: Any, world: World, make_case: Any) -> None:
    inspection_id, _case = scheduled(app, world, make_case)
    outsider = browser(app, world.liaison("WJW"))
    url = make_feed(outsider)
    body = browser(app).get(url).content
    assert events_of(body) == {}
    assert "预付卡门店联合检查".encode() not in body
    token = url.removeprefix("/ics/").removesuffix(".ics")
    with Session(app.state.engine) as s:
        feed = s.exec(select(CalendarFeed)).one()
        assert feed.token_hash != token and token not in feed.token_hash and len(feed.token_hash) == 64


def test_a_revoked_address_answers_404_at_once_and_nobody_revokes_or_reads_anothers(
        app: Any, world: World, make_case: Any) -> None:
    scheduled(app, world, make_case)
    police = browser(app, world.liaison("GAJ"))
    url = make_feed(police)
    assert browser(app).get(url).status_code == 200
    with Session(app.state.engine) as s:
        feed_id = s.exec(select(CalendarFeed)).one().id

    # Another user: the feed is not on his settings page, and revoking it by number finds nothing.
    attacker = browser(app, world.liaison("WJW"))
    page = attacker.get("/settings").text
    assert f"/settings/feeds/{feed_id}/revoke" not in page
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.split('id="feeds-h"', 1)[1])
    assert token
    r = attacker.post(f"/settings/feeds/{feed_id}/revoke", data={"csrf_token": token.group(1)})
    assert r.status_code == 404
    assert browser(app).get(url).status_code == 200
    # Addresses he might try: a wrong token, a mangled one, his session instead of a token.
    for guess in ("/ics/" + "A" * 43 + ".ics", url[:-5] + "x.ics", url.replace(".ics", ""), "/ics/.ics"):
        assert attacker.get(guess).status_code == 404

    page = police.get("/settings").text
    assert "我的日程" in page
    token = re.search(r'name="csrf_token" value="([^"]*)"',
                      page.split(f'action="/settings/feeds/{feed_id}/revoke"', 1)[1])
    assert token
    r = police.post(f"/settings/feeds/{feed_id}/revoke", data={"csrf_token": token.group(1)})
    assert r.status_code == 303
    gone = browser(app).get(url)
    assert gone.status_code == 404 and b"BEGIN:VCALENDAR" not in gone.content
    assert "尚未生成订阅地址" in police.get("/settings").text


def test_an_english_users_feed_is_in_english_and_a_cancelled_inspection_says_so(
        app: Any, world: World, make_case: Any) -> None:
    inspection_id, _case = scheduled(app, world, make_case)
    with Session(app.state.engine) as s:
        row = s.get(User, world.liaison("GAJ").id)
        assert row is not None
        row.language = "en"
        s.commit()
    police = browser(app, world.liaison("GAJ"))
    url = make_feed(police)
    coordinator = browser(app, world.coordinator)
    page = f"/inspections/{inspection_id}"
    r = coordinator.post(f"{page}/cancel", data={**form_fields(coordinator.get(page).text, f"{page}/cancel"),
                                                 "reason": "企业已注销"})
    assert r.status_code == 303
    found = events_of(browser(app).get(url).content)
    inspection = next(e for uid, e in found.items() if uid.startswith(f"inspection-{inspection_id}@"))
    assert str(inspection["STATUS"]) == "CANCELLED"
    assert str(inspection["SUMMARY"]).startswith("Joint inspection")
    assert int(inspection["SEQUENCE"]) >= 2
    assert not any(uid.startswith("assignment-") for uid in found)  # cancelled work has no deadline
