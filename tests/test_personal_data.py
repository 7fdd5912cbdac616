"""Personal data: masked before any template or encoder sees it, reads audited apart from the timeline,
never cached; the shared timeline shows the newest entries and pages back to the oldest."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

import services.api.pages.common as page_common
from shared.audit.models import AuditEntry
from shared.events import service as events
from shared.events.models import Event
from tests.factories import World
from tests.test_pages import browser

RAW = ("张三", "13812345678", "11010119900307451X", "中山路1号")


def count(app: Any, model: Any, **where: Any) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    with Session(app.state.engine) as s:
        return s.scalar(stmt) or 0


# ------------------------------------------------------------------ audit log, not the timeline

def test_viewing_a_case_ten_times_adds_no_timeline_entry_and_ten_audit_rows(app: Any, api: Any, world: World,
                                                                             make_case: Any) -> None:
    case = make_case(lead="SCJG", shared=("XFXH",))
    timeline_before = count(app, Event, case_id=case.id)
    lead = api.as_user(world.liaison("SCJG"))
    page = browser(app, world.coordinator)
    for i in range(10):
        r = lead.get(f"/api/v1/cases/{case.id}") if i % 2 else page.get(f"/cases/{case.id}")
        assert r.status_code == 200
    api.as_user(world.liaison("XFXH")).get(f"/api/v1/cases/{case.id}")  # masked: not an audited read
    assert count(app, Event, case_id=case.id) == timeline_before
    assert count(app, AuditEntry, case_id=case.id) == 10
    shown = browser(app, world.liaison("XFXH")).get(f"/cases/{case.id}").text
    assert "查看投诉人完整信息" not in shown


def test_admins_query_the_audit_log_by_user_case_and_date_page_by_page(api: Any, world: World, make_case: Any,
                                                                        clock: Any) -> None:
    first, second = make_case(lead="SCJG"), make_case(lead="XFXH")
    coordinator, lead = api.as_user(world.coordinator), api.as_user(world.liaison("SCJG"))
    for _ in range(3):
        coordinator.get(f"/api/v1/cases/{first.id}")
        lead.get(f"/api/v1/cases/{first.id}")
    clock.advance(timedelta(days=2))
    coordinator.get(f"/api/v1/cases/{second.id}")

    admin = api.as_user(world.admin)
    everything = admin.get("/api/v1/audit").json()["items"]
    assert len(everything) == 7 and everything[0]["case_id"] == second.id  # newest first
    by_user = admin.get("/api/v1/audit", params={"user_id": world.liaison("SCJG").id}).json()["items"]
    assert len(by_user) == 3 and {e["case_id"] for e in by_user} == {first.id}
    by_case = admin.get("/api/v1/audit", params={"case_id": second.id}).json()["items"]
    assert [e["actor_id"] for e in by_case] == [world.coordinator.id]
    since = (clock.now() - timedelta(days=1)).isoformat()
    assert len(admin.get("/api/v1/audit", params={"since": since}).json()["items"]) == 1
    assert len(admin.get("/api/v1/audit", params={"until": since}).json()["items"]) == 6

    seen, cursor = [], None
    while True:
        r = admin.get("/api/v1/audit", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        seen += [e["id"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [e["id"] for e in everything]

    for who in (world.coordinator, world.leader, world.liaison("SCJG")):
        assert api.as_user(who).get("/api/v1/audit").status_code == 403


def test_the_audit_log_is_append_only_on_postgresql(engine: Any, session: Session, world: World) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    session.add(AuditEntry(at=datetime.now(UTC), actor_id=world.admin.id, action="personal_data_read"))  # type: ignore[arg-type]
    session.commit()
    for statement in ("UPDATE audit_log SET action = 'rewritten'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


# ------------------------------------------------------------------ no-store

def test_answers_with_personal_data_are_never_stored(app: Any, api: Any, world: World, make_case: Any) -> None:
    case = make_case(lead="SCJG")
    lead = api.as_user(world.liaison("SCJG"))
    full = lead.get(f"/api/v1/cases/{case.id}")
    assert "13812345678" in full.text and full.headers["Cache-Control"] == "no-store"
    for url in (f"/api/v1/cases/{case.id}/timeline", "/api/v1/cases", "/api/v1/me", "/api/v1/users"):
        assert lead.get(url).headers.get("Cache-Control") == "no-store", url
    edited = api.as_user(world.coordinator).patch(f"/api/v1/cases/{case.id}", json={"region": "玄武区"},
                                                  headers={"If-Match": '"1"'})
    assert edited.status_code == 200 and edited.headers["Cache-Control"] == "no-store"
    page = browser(app, world.liaison("SCJG")).get(f"/cases/{case.id}")
    assert "13812345678" in page.text and page.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------------ masking before the template

def _strings(value: Any, seen: set[int], depth: int = 0) -> list[str]:
    """Every string reachable from VALUE through items and attributes: what a template could print."""
    if depth > 8 or id(value) in seen or callable(value) and not isinstance(value, BaseModel):
        return []
    seen.add(id(value))
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for part in (k, v) for s in _strings(part, seen, depth + 1)]
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in _strings(v, seen, depth + 1)]
    attributes: dict[str, Any] = {}
    if isinstance(value, BaseModel):
        attributes.update({name: getattr(value, name, None) for name in type(value).model_fields})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        attributes.update({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if hasattr(value, "__dict__") and not isinstance(value, type):
        attributes.update({k: v for k, v in vars(value).items() if not k.startswith("_")})
    return [s for v in attributes.values() for s in _strings(v, seen, depth + 1)]


def test_the_case_page_template_is_never_given_raw_complainant_data(app: Any, world: World, make_case: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case(lead="SCJG", shared=("XFXH",))
    given: list[dict[str, Any]] = []
    real_render = page_common.render

    def spying_render(template: str, **context: Any) -> str:
        given.append(context)
        return real_render(template, **context)

    monkeypatch.setattr(page_common, "render", spying_render)
    html = browser(app, world.liaison("XFXH")).get(f"/cases/{case.id}").text
    assert "138****5678" in html
    [context] = given
    printable = "\n".join(_strings(context, set()))
    for raw in RAW:
        assert raw not in printable, f"{raw} reached the template"
    assert not any(re.match(r"complainant_", name) for name in dir(context["case"]))


# ------------------------------------------------------------------ the timeline pages back

def test_with_600_events_the_newest_comment_shows_and_paging_back_reaches_the_oldest(
        app: Any, api: Any, world: World, make_case: Any, session: Session, clock: Any) -> None:
    case = make_case(lead="SCJG", shared=("XFXH",))
    for i in range(600):
        clock.advance(timedelta(seconds=1))
        events.record(session, clock, world.coordinator, "case", case.id, "commented", case_id=case.id,
                      after={"text": f"第{i}条备注"})
    session.commit()

    client = api.as_user(world.liaison("XFXH"))
    first = client.get(f"/api/v1/cases/{case.id}/timeline").json()
    assert first["items"][0]["after"]["text"] == "第599条备注"
    actions, cursor, pages = [e["action"] for e in first["items"]], first["next_cursor"], 1
    while cursor:
        page = client.get(f"/api/v1/cases/{case.id}/timeline", params={"cursor": cursor}).json()
        actions += [e["action"] for e in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
    assert len(actions) == 601 and actions[-1] == "created" and pages == 7
    naive = base64.urlsafe_b64encode(json.dumps([{"dt": "2026-12-01T10:00:00"}, 5]).encode()).decode()
    for bad in ("garbage", naive, base64.urlsafe_b64encode(b'["x", 5]').decode()):
        r = client.get(f"/api/v1/cases/{case.id}/timeline", params={"cursor": bad})
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "cursor", bad

    reader = browser(app, world.liaison("XFXH"))
    html = reader.get(f"/cases/{case.id}").text
    assert "第599条备注" in html and "第0条备注" not in html
    shown = [html]
    url: str | None = re.search(r'href="([^"]+)" rel="next"', html).group(1)  # type: ignore[union-attr]
    while url:
        shown.append(reader.get(url.replace("&amp;", "&")).text)
        found = re.search(r'href="([^"]+)" rel="next"', shown[-1])
        url = found.group(1) if found else None
    assert len(shown) == 7 and "开案" in shown[-1]
    comments = [c for page_html in shown for c in re.findall(r"第\d+条备注", page_html)]
    assert comments == [f"第{i}条备注" for i in range(599, -1, -1)]  # each once, newest to oldest
