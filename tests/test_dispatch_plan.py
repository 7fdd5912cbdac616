"""Dispatch as the hotlines do it: a lead department (主办) and assisting ones (协办) in one step.

POST /api/v1/cases/{id}/dispatch-plan gives each department its own assignment,
all or none; requirements are required; the deadlines it sets are the ones
GET /api/v1/cases/{id}/dispatch-preview showed before, provisional where the
calendar is (2027 has no official schedule yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from shared.assignments.models import Assignment
from shared.events.models import Event
from tests.test_workflow_api import post

PLAN = "/api/v1/cases/{}/dispatch-plan"
PREVIEW = "/api/v1/cases/{}/dispatch-preview"
REQUIREMENTS = "核查该健身连锁各门店预付卡经营情况，依法处置并反馈"


def _plan(client: Any, case_id: int, lead: int, assists: list[int], key: str | None = None, **extra: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"lead_department_id": lead, "assist_department_ids": assists, "instructions": REQUIREMENTS, **extra}
    return client.post(PLAN.format(case_id), json=body, headers=headers)


def _on_case(app: Any, case_id: int) -> list[Assignment]:
    with Session(app.state.engine) as s:
        stmt = select(Assignment).where(col(Assignment.case_id) == case_id).order_by(col(Assignment.id))
        return list(s.scalars(stmt))


def test_a_lead_and_two_assisting_departments_each_get_their_own_assignment(api, app, world, make_case):  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    coord = api.as_user(world.coordinator)
    tyj, xfxh, gaj = (world.dept(c).id for c in ("TYJ", "XFXH", "GAJ"))
    r = _plan(coord, case.id, tyj, [xfxh, gaj], key="plan-1", working_days=5)
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert [(i["department_id"], i["role"]) for i in items] == [(tyj, "lead"), (xfxh, "assist"), (gaj, "assist")]
    assert {i["instructions"] for i in items} == {REQUIREMENTS}
    assert {i["state"] for i in items} == {"dispatched"}
    # 2026-12-01 is a Tuesday: five working days end on Tuesday 2026-12-08 at close of business.
    assert {i["feedback_due_at"] for i in items} == {"2026-12-08T09:30:00Z"}
    assert not any(i["due_provisional"] for i in items)

    # Sent again with the same key: the first answer, nothing new.
    again = _plan(coord, case.id, tyj, [xfxh, gaj], key="plan-1", working_days=5)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == r.json()
    assert len(_on_case(app, case.id)) == 3

    # Each department's liaison finds its own, with its part in the work; the case is shared with all three.
    for code, role in (("TYJ", "lead"), ("XFXH", "assist"), ("GAJ", "assist")):
        mine = api.as_user(world.liaison(code)).get("/api/v1/assignments", params={"case_id": case.id}).json()
        own = [i for i in mine["items"] if i["department_id"] == world.dept(code).id]
        assert [i["role"] for i in own] == [role], code
        queue = api.as_user(world.liaison(code)).get("/api/v1/queue").json()
        assert [i["role"] for i in queue["items"] if i["case_id"] == case.id] == [role], code
    assert set(coord.get(f"/api/v1/cases/{case.id}").json()["shared_with"]) >= {tyj, xfxh, gaj}
    with Session(app.state.engine) as s:
        roles = [e.after["role"] for e in s.scalars(select(Event).where(
            col(Event.case_id) == case.id, col(Event.action) == "dispatched").order_by(col(Event.id)))
            if e.after]
    assert roles == ["lead", "assist", "assist"]


def test_one_department_with_open_work_refuses_the_whole_plan(api, app, world, make_case):  # type: ignore[no-untyped-def]
    case = make_case()
    coord = api.as_user(world.coordinator)
    busy = coord.post(f"/api/v1/cases/{case.id}/assignments",
                      json={"department_id": world.dept("GAJ").id, "instructions": "先行核查"}).json()
    version = coord.get(f"/api/v1/cases/{case.id}").json()["version"]

    r = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id, world.dept("GAJ").id])
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "assignment_already_open" and error["params"]["assignment_id"] == busy["id"]
    assert str(busy["id"]) in error["message"]
    # Nothing of it happened: no lead, no other assist, the case as it was.
    assert [a.id for a in _on_case(app, case.id)] == [busy["id"]]
    assert coord.get(f"/api/v1/cases/{case.id}").json()["version"] == version

    # The lead being the busy one refuses it just the same.
    r = _plan(coord, case.id, world.dept("GAJ").id, [world.dept("XFXH").id])
    assert r.status_code == 409 and len(_on_case(app, case.id)) == 1

    # Said to be parallel work, it goes through: every department gets its assignment.
    r = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id, world.dept("GAJ").id], parallel=True)
    assert r.status_code == 201, r.text
    assert len(_on_case(app, case.id)) == 4


def test_requirements_are_required_and_departments_named_once(api, app, world, make_case):  # type: ignore[no-untyped-def]
    case = make_case()
    coord = api.as_user(world.coordinator)
    body = {"lead_department_id": world.dept("TYJ").id, "assist_department_ids": [world.dept("XFXH").id]}
    missing = coord.post(PLAN.format(case.id), json=body)
    assert missing.status_code == 422
    assert [f["field"] for f in missing.json()["error"]["fields"]] == ["instructions"]
    blank = coord.post(PLAN.format(case.id), json={**body, "instructions": "  \n "})
    assert blank.status_code == 422
    [field] = blank.json()["error"]["fields"]
    assert field["field"] == "instructions" and field["reason"] == "请填写办理要求"
    english = api.as_user(world.coordinator, lang="en").post(PLAN.format(case.id), json={**body, "instructions": " "})
    assert english.json()["error"]["fields"][0]["reason"] == "requirements are required"

    repeated = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id, world.dept("TYJ").id])
    assert repeated.status_code == 422
    assert repeated.json()["error"]["fields"][0]["field"] == "assist_department_ids[1]"
    assert "协办部门重复" in repeated.json()["error"]["fields"][0]["reason"]
    twice = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id, world.dept("XFXH").id])
    assert twice.json()["error"]["fields"][0]["field"] == "assist_department_ids[1]"
    unknown = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id, 999_999])
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["field"] == "assist_department_ids[1]"
    no_lead = _plan(coord, case.id, 999_999, [])
    assert no_lead.status_code == 422 and no_lead.json()["error"]["fields"][0]["field"] == "lead_department_id"
    assert _on_case(app, case.id) == []


def test_the_preview_shows_the_due_dates_the_plan_then_sets(api, app, world, make_case):  # type: ignore[no-untyped-def]
    case = make_case()  # a 12315 complaint: 7 working days by default
    coord = api.as_user(world.coordinator)
    default = coord.get(PREVIEW.format(case.id)).json()
    assert default["working_days"] == 7 and default["provisional"] is False
    assert default["feedback_due_at"] == "2026-12-10T09:30:00Z"  # Thursday 10 December, 17:30 local
    assert default["acceptance_due_at"] == "2026-12-02T09:30:00Z"

    # 25 working days from 1 December count days of 2027, whose official schedule is not out yet.
    later = coord.get(PREVIEW.format(case.id), params={"working_days": 25}).json()
    assert later["provisional"] is True
    assert datetime.fromisoformat(later["feedback_due_at"]).year == 2027
    assert coord.get(PREVIEW.format(case.id), params={"working_days": 0}).status_code == 422

    r = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id], working_days=25)
    assert r.status_code == 201
    for item in r.json()["items"]:
        assert item["feedback_due_at"] == later["feedback_due_at"]
        assert item["acceptance_due_at"] == later["acceptance_due_at"]
        assert item["due_provisional"] is True and item["working_days"] == 25


def test_only_the_cases_managers_plan_or_preview(api, app, world, make_case):  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    hidden = make_case()  # shared with nobody
    for user, status in ((world.liaison("XFXH"), 403), (world.head("XFXH"), 403), (world.user("coordinator2"), 403),
                         (world.leader, 403), (world.liaison("GAJ"), 404)):
        client = api.as_user(user)
        assert _plan(client, case.id, world.dept("TYJ").id, []).status_code == status, user.username
        assert client.get(PREVIEW.format(case.id)).status_code == status, user.username
    # A case out of reach does not exist, whatever the plan names.
    assert _plan(api.as_user(world.liaison("XFXH")), hidden.id, world.dept("XFXH").id, []).status_code == 404
    assert _on_case(app, case.id) == [] and _on_case(app, hidden.id) == []


def test_a_closed_case_takes_no_plan(api, app, world, make_case):  # type: ignore[no-untyped-def]
    case = make_case()
    coord = api.as_user(world.coordinator)
    version = coord.get(f"/api/v1/cases/{case.id}").json()["version"]
    closed = post(coord, f"/api/v1/cases/{case.id}/close", version=version, json={"reason": "重复投诉"})
    assert closed.status_code == 200
    r = _plan(coord, case.id, world.dept("TYJ").id, [world.dept("XFXH").id])
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_closed"
    assert _on_case(app, case.id) == []
