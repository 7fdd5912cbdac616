"""The calendar over HTTP: anyone signed in reads it, admins load a year and see warnings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from shared.assignments.models import Assignment
from shared.calendar import service
from shared.cases.models import Case, CaseSource
from shared.clock import FrozenClock
from shared.settings import Settings
from tests.conftest import Api
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")

SCHEDULE_2027 = {
    "holidays": ["2027-01-01"] + [{"date": f"2027-02-{d:02d}", "name": "春节"} for d in range(5, 14)],
    "workdays": [{"date": "2027-02-20", "name": "春节调休"}],
}


def _provisional_assignment(
    session: Session, world: World, clock: FrozenClock, settings: Settings
) -> Assignment:
    case = Case(
        reference="GZ-2026-000009", title="跨年工单", source=CaseSource.REFERRAL, category="other",
        lead_department_id=world.dept("SCJG").id, coordinator_id=world.coordinator.id,
        created_at=clock.now(), updated_at=clock.now(),
    )
    session.add(case)
    session.flush()
    at = datetime(2026, 12, 24, 10, tzinfo=SHANGHAI).astimezone(UTC)
    calendar = service.working_calendar(session, settings)
    due = calendar.add_working_days(at, 10)
    a = Assignment(
        case_id=case.id, department_id=world.dept("XFXH").id, dispatched_by=world.coordinator.id,
        dispatched_at=at, acceptance_due_at=calendar.add_working_days(at, 1).at, feedback_due_at=due.at,
        original_feedback_due_at=due.at, working_days=10, due_provisional=due.provisional, updated_at=at,
    )
    session.add(a)
    session.commit()
    return a


def test_anyone_signed_in_reads_the_2026_schedule(api: Api, world: World) -> None:
    r = api.as_user(world.liaison("XFXH")).get("/api/v1/calendar", params={"year": 2026})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["official"] is True and body["provisional"] is False
    assert body["source"].startswith("chinese-calendar")
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-02-14"] == {"date": "2026-02-14", "is_working": True, "name": "春节调休"}
    assert days["2026-02-16"]["is_working"] is False
    assert days["2026-10-10"]["is_working"] is True


def test_the_default_year_is_this_year_in_shanghai(api: Api, world: World) -> None:
    r = api.as_user(world.leader).get("/api/v1/calendar")
    assert r.json()["year"] == 2026


def test_a_year_without_a_schedule_is_provisional(api: Api, world: World) -> None:
    r = api.as_user(world.leader).get("/api/v1/calendar", params={"year": 2027})
    body = r.json()
    assert body["provisional"] is True and body["official"] is False and body["source"] is None
    assert {"date": "2027-02-05", "is_working": False, "name": "春节"} in body["days"]
    assert not any(d["is_working"] for d in body["days"])  # no make-up day is guessed


def test_reading_needs_a_sign_in(api: Api) -> None:
    assert api.anonymous().get("/api/v1/calendar").status_code == 401


def test_admins_are_warned_in_december_that_2027_is_missing(api: Api, world: World) -> None:
    r = api.as_user(world.admin).get("/api/v1/calendar/status")
    assert r.status_code == 200
    [warning] = r.json()["warnings"]
    assert warning["code"] == "calendar_next_year_missing" and warning["year"] == 2027
    assert "2027" in warning["message"] and "尚未载入" in warning["message"]
    en = api.as_user(world.admin, lang="en").get("/api/v1/calendar/status").json()
    assert en["warnings"][0]["message"].startswith("The official holiday schedule for 2027")
    assert api.as_user(world.liaison("GAJ")).get("/api/v1/calendar/status").status_code == 403


def test_only_an_admin_loads_a_year(api: Api, world: World) -> None:
    for user in (world.liaison("SCJG"), world.coordinator, world.leader):
        r = api.as_user(user).put("/api/v1/calendar/2027", json=SCHEDULE_2027)
        assert r.status_code == 403, user.username
    assert api.as_user(world.admin).get("/api/v1/calendar", params={"year": 2027}).json()["provisional"]


def test_a_date_outside_the_year_is_refused_naming_the_field(api: Api, world: World) -> None:
    body = {"holidays": ["2027-01-01", {"date": "2028-01-03", "name": "元旦"}], "workdays": []}
    r = api.as_user(world.admin).put("/api/v1/calendar/2027", json=body)
    assert r.status_code == 422
    [field] = r.json()["error"]["fields"]
    assert field["field"] == "holidays[1]"
    assert "2028-01-03" in field["reason"] and "2027" in field["reason"]


def test_a_malformed_date_is_refused(api: Api, world: World) -> None:
    r = api.as_user(world.admin).put("/api/v1/calendar/2027", json={"holidays": ["2027-02-30"]})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"].startswith("holidays[0]")


def test_loading_2027_recomputes_and_clears_provisional(
    api: Api, world: World, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    a = _provisional_assignment(session, world, clock, settings)
    assert a.due_provisional

    r = api.as_user(world.admin).put("/api/v1/calendar/2027", json=SCHEDULE_2027)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["year"] == 2027 and summary["official"] is True
    assert (summary["holidays"], summary["workdays"]) == (7, 1)
    assert summary["checked"] == 1 and summary["recomputed"] == 1 and summary["still_provisional"] == 0
    assert summary["assignment_ids"] == [a.id]

    session.refresh(a)
    assert not a.due_provisional and a.version == 2
    session.commit()  # SQLite: an open reading transaction here would block the API's writes
    body = api.as_user(world.liaison("XFXH")).get("/api/v1/calendar", params={"year": 2027}).json()
    assert body["official"] is True and body["loaded"] is True and body["source"] == "admin"
    assert {"date": "2027-02-20", "is_working": True, "name": "春节调休"} in body["days"]
    assert api.as_user(world.admin).get("/api/v1/calendar/status").json()["warnings"] == []
