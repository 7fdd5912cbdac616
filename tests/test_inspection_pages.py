"""Joint inspections in the browser: the month calendar, scheduling, one inspection's page.

Driven like a browser (GET a page, post its form); the JSON API is asked afterwards
to show that the page acted through the same use cases.  SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from shared.calendar.service import year_view
from shared.inspections.models import Inspection
from tests.factories import World
from tests.relay_kicks import counting_kicks
from tests.test_pages import browser, form_fields


@pytest.fixture(autouse=True)
def kicks(app: Any) -> Iterator[list[int]]:
    with counting_kicks() as calls:
        yield calls


def schedule_form(client: TestClient, **fields: Any) -> Any:
    """Post the scheduling form as a browser would (participants are ticked boxes)."""
    page = client.get("/inspections/new")
    assert page.status_code == 200, page.text
    data: dict[str, Any] = {**form_fields(page.text, "/inspections/new"), **fields}
    return client.post("/inspections/new", data=data)


def plan(world: World, case: Any, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "case_id": case.reference, "title": "预付卡门店联合检查", "scheduled_on": "2026-12-10",
        "lead_department_id": str(world.dept("SCJG").id),
        "participant_department_ids": [str(world.dept("GAJ").id), str(world.dept("TYJ").id)],
        "place": "鼓楼区中山路88号", "targets": "某某健身管理有限公司\n某某体育用品店", "working_days": "5",
    }
    fields.update(overrides)
    return fields


def day_cell(page: str, day: date) -> str:
    """The calendar cell of DAY (the grid's cells are role="cell")."""
    for cell in page.split('role="cell"')[1:]:
        if f'datetime="{day.isoformat()}"' in cell.split("</time>", 1)[0]:
            return cell
    raise AssertionError(f"no cell for {day}")


def scheduled(app: Any, world: World, make_case: Any) -> tuple[int, Any, TestClient]:
    """An inspection scheduled on the page by the coordinator, and his browser."""
    case = make_case()
    coordinator = browser(app, world.coordinator)
    r = schedule_form(coordinator, **plan(world, case))
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"/inspections/(\d+)", r.headers["location"])
    assert m
    return int(m.group(1)), case, coordinator


def test_scheduled_on_the_page_the_api_shows_it_and_the_calendar_puts_it_on_its_day(
        app: Any, api: Any, world: World, make_case: Any) -> None:
    inspection_id, case, coordinator = scheduled(app, world, make_case)
    landed = coordinator.get(f"/inspections/{inspection_id}")
    assert landed.status_code == 200 and "联合检查已安排" in landed.text
    assert "鼓楼区中山路88号" in landed.text and "某某体育用品店" in landed.text

    shown = api.as_user(world.coordinator).get(f"/api/v1/inspections/{inspection_id}").json()
    assert shown["case_id"] == case.id and shown["title"] == "预付卡门店联合检查"
    assert shown["scheduled_on"] == "2026-12-10" and shown["status"] == "planned"
    assert sorted(shown["participant_department_ids"]) == sorted(world.dept(c).id for c in ("SCJG", "GAJ", "TYJ"))
    assert len(shown["assignment_ids"]) == 3

    # Each department's assignment and its state, on the inspection's page.
    for a_id in shown["assignment_ids"]:
        assert f'href="/assignments/{a_id}"' in landed.text
    assert landed.text.count("待签收") >= 3

    month = coordinator.get("/inspections?month=2026-12").text
    link = f'href="/inspections/{inspection_id}"'
    assert link in day_cell(month, date(2026, 12, 10))
    assert link not in day_cell(month, date(2026, 12, 9)) and link not in day_cell(month, date(2026, 12, 11))
    # A department taking part sees it too; the month before does not list it.
    police = browser(app, world.liaison("GAJ"))
    assert link in day_cell(police.get("/inspections?month=2026-12").text, date(2026, 12, 10))
    assert link not in police.get("/inspections?month=2026-11").text


def test_the_month_grid_marks_today_holidays_and_make_up_days_and_links_the_months(
        app: Any, world: World, session: Session) -> None:
    client = browser(app, world.liaison("XFXH"))
    december = client.get("/inspections").text  # the clock's month: December 2026
    assert 'aria-current="date"' in day_cell(december, date(2026, 12, 1))
    assert 'aria-current="date"' not in day_cell(december, date(2026, 12, 2))
    assert 'href="/inspections?month=2026-11"' in december and 'href="/inspections?month=2027-01"' in december
    assert client.get("/inspections?month=2026-13").text.count('aria-current="date"') == 1  # nonsense: this month

    special = year_view(session, 2026).days
    session.rollback()  # SQLite: no lock held while the app answers
    holiday = next(d for d in special if not d.is_working and d.day.weekday() < 5)
    makeup = next(d for d in special if d.is_working)
    page = client.get(f"/inspections?month={holiday.day:%Y-%m}").text
    cell = day_cell(page, holiday.day)
    assert "holiday" in cell.split(">", 1)[0] and "休" in cell
    page = client.get(f"/inspections?month={makeup.day:%Y-%m}").text
    cell = day_cell(page, makeup.day)
    assert "workday" in cell.split(">", 1)[0] and "班（调休）" in cell


def test_refused_fields_are_named_next_to_them_and_the_typed_text_stays(app: Any, world: World,
                                                                          make_case: Any) -> None:
    case = make_case()
    client = browser(app, world.coordinator)
    r = schedule_form(client, **plan(world, case, title="", scheduled_on="2026-11-20",
                                     targets="某某健身管理有限公司（鼓楼店）"))
    assert r.status_code == 422
    # The first refusal found: the schema's (title), shown next to the title input.
    assert re.search(r'id="in-title"[^>]*aria-invalid="true"', r.text)
    assert 'id="in-title-err"' in r.text
    assert "某某健身管理有限公司（鼓楼店）" in r.text  # kept
    assert f'value="{world.dept("GAJ").id}" checked' in r.text

    r = schedule_form(client, **plan(world, case, scheduled_on="2026-11-20"))
    assert r.status_code == 422
    error = re.search(r'<p id="in-scheduled_on-err" class="field-error">([^<]+)</p>', r.text)
    assert error and "2026-12-01" in error.group(1)  # not before today, said in Chinese

    r = schedule_form(client, **plan(world, case, case_id="GZ-2026-999999"))
    assert r.status_code == 422 and 'id="in-case_id-err"' in r.text and "案件不存在或无权访问" in r.text

    with Session(app.state.engine) as s:
        assert s.exec(select(Inspection)).first() is None


def test_an_uninvolved_liaison_sees_nothing_and_cannot_schedule(app: Any, api: Any, world: World,
                                                                 make_case: Any) -> None:
    inspection_id, case, _coordinator = scheduled(app, world, make_case)
    outsider = browser(app, world.liaison("WJW"))
    month = outsider.get("/inspections?month=2026-12")
    assert month.status_code == 200
    assert f"/inspections/{inspection_id}" not in month.text and "预付卡门店联合检查" not in month.text
    page = outsider.get(f"/inspections/{inspection_id}")
    assert page.status_code == 404 and "预付卡门店联合检查" not in page.text
    assert api.as_user(world.liaison("WJW")).get(f"/api/v1/inspections/{inspection_id}").status_code == 404
    assert outsider.get("/inspections/99999").status_code == 404
    assert outsider.get("/inspections/abc").status_code == 404

    # Scheduling is the case manager's: a liaison of the lead department is refused, nothing is made.
    lead_liaison = browser(app, world.liaison("SCJG"))
    r = schedule_form(lead_liaison, **plan(world, case, title="越权安排"))
    assert r.status_code == 403
    # Nor may he act on one: the forms are not offered, and posting them anyway is refused.
    detail = lead_liaison.get(f"/inspections/{inspection_id}")
    assert detail.status_code == 200 and f'action="/inspections/{inspection_id}/cancel"' not in detail.text
    fields = form_fields(browser(app, world.coordinator).get(f"/inspections/{inspection_id}").text,
                         f"/inspections/{inspection_id}/cancel")
    forged = outsider.post(f"/inspections/{inspection_id}/cancel", data={**fields, "reason": "x"})
    assert forged.status_code in (403, 404)
    with Session(app.state.engine) as s:
        titles = [i.title for i in s.exec(select(Inspection))]
        assert titles == ["预付卡门店联合检查"]
        assert s.get(Inspection, inspection_id).status == "planned"  # type: ignore[union-attr]


def test_record_edit_with_version_and_cancel_with_reason(app: Any, api: Any, world: World, make_case: Any) -> None:
    inspection_id, _case, _coordinator = scheduled(app, world, make_case)
    head = browser(app, world.head("SCJG"))  # the lead department's head leads it
    url = f"/inspections/{inspection_id}"
    first_tab = form_fields(head.get(url).text, f"{url}/edit")
    r = head.post(f"{url}/record", data={**form_fields(head.get(url).text, f"{url}/record"),
                                         "record": "两家门店均已停业，现场张贴告知书。"})
    assert r.status_code == 303
    assert "两家门店均已停业" in head.get(url).text

    # An edit made on a page read before the record was saved: refused, nothing lost.
    stale = head.post(f"{url}/edit", data={**first_tab, "title": "改期后的联合检查", "scheduled_on": "2026-12-11",
                                           "place": "新街口", "targets": "某某健身"})
    assert stale.status_code == 412 and "改期后的联合检查" in stale.text
    r = head.post(f"{url}/edit", data={**form_fields(head.get(url).text, f"{url}/edit"),
                                       "title": "改期后的联合检查", "scheduled_on": "2026-12-11",
                                       "place": "新街口", "targets": "某某健身"})
    assert r.status_code == 303
    shown = api.as_user(world.coordinator).get(f"/api/v1/inspections/{inspection_id}").json()
    assert shown["title"] == "改期后的联合检查" and shown["scheduled_on"] == "2026-12-11"
    assert shown["record"] == "两家门店均已停业，现场张贴告知书。"

    # Cancelling is the case manager's (the head of the lead department may close, not cancel).
    assert f'action="{url}/cancel"' not in head.get(url).text
    coordinator = browser(app, world.coordinator)
    no_reason = coordinator.post(f"{url}/cancel", data={**form_fields(coordinator.get(url).text, f"{url}/cancel"),
                                                        "reason": ""})
    assert no_reason.status_code == 422 and 'id="cn-reason-err"' in no_reason.text
    r = coordinator.post(f"{url}/cancel", data={**form_fields(coordinator.get(url).text, f"{url}/cancel"),
                                                "reason": "企业已注销，检查取消"})
    assert r.status_code == 303
    shown = api.as_user(world.coordinator).get(f"/api/v1/inspections/{inspection_id}").json()
    assert shown["status"] == "cancelled" and shown["close_reason"] == "企业已注销，检查取消"
    states = {api.as_user(world.coordinator).get(f"/api/v1/assignments/{a}").json()["state"]
              for a in shown["assignment_ids"]}
    assert states == {"cancelled"}
    page = coordinator.get(url).text
    assert "已取消" in page and f'action="{url}/cancel"' not in page and f'action="{url}/record"' not in page


def test_the_lead_closes_with_a_reason(app: Any, api: Any, world: World, make_case: Any) -> None:
    inspection_id, _case, _coordinator = scheduled(app, world, make_case)
    head = browser(app, world.head("SCJG"))
    url = f"/inspections/{inspection_id}"
    r = head.post(f"{url}/close", data={**form_fields(head.get(url).text, f"{url}/close"),
                                        "reason": "商户已停业，检查终止"})
    assert r.status_code == 303
    shown = api.as_user(world.coordinator).get(f"/api/v1/inspections/{inspection_id}").json()
    assert shown["status"] == "done" and shown["close_reason"] == "商户已停业，检查终止"
    assert "已办结" in head.get(url).text


def test_the_calendar_in_english(app: Any, world: World, session: Session) -> None:
    from shared.users.models import User

    row = session.get(User, world.liaison("XFXH").id)
    assert row is not None
    row.language = "en"
    session.commit()
    session.rollback()
    page = browser(app, row).get("/inspections?month=2026-12").text
    assert "Joint inspections" in page and "Next month" in page and "Mon" in page
