"""Head sign-off (审签): where a department requires it, a liaison's feedback waits for its head.

Played over the JSON API and the pages as the people would: the liaison submits,
the head signs off (the coordinator then reviews) or sends it back with a note
(the liaison corrects and submits again); nobody else may sign, whatever he tries;
the head hears of it at once and is reminded by the real reminder pass; his
inbox lists it; the weekly figures count the liaison's submission time.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from shared.assignments import service as assignments
from shared.assignments.inbox import inbox
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.schemas import DispatchIn, FeedbackIn
from shared.clock import FrozenClock
from shared.departments.models import Department
from shared.reminders.models import ReminderNotice
from shared.reports.figures import weekly_report, weekly_rows
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from shared.users.models import User
from tests.factories import World
from tests.reminder_builders import Day, local, outbox_rows
from tests.test_inbox import _section
from tests.test_pages import browser, form_fields, has_form, state_of
from tests.test_workflow_api import FEEDBACK, post

SHANGHAI = ZoneInfo("Asia/Shanghai")


def require_signoff(session: Session, world: World, code: str, on: bool = True) -> None:
    department = session.get(Department, world.dept(code).id, populate_existing=True)
    assert department is not None
    department.signoff_required = on
    session.add(department)
    session.commit()


def reload(session: Session, a_id: int) -> Assignment:
    """The row as stored now; the reading transaction ends (on SQLite it would hold the write lock)."""
    a = session.get(Assignment, a_id, populate_existing=True)
    assert a is not None
    session.commit()
    return a


def submitted_by_liaison(api: Any, world: World, a: Assignment, code: str = "XFXH") -> dict[str, Any]:
    """Accept and submit as the department's liaison over the API; the assignment as the liaison then sees it."""
    liaison = api.as_user(world.liaison(code))
    v = post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version).json()["version"]
    r = post(liaison, f"/api/v1/assignments/{a.id}/feedback", version=v, json=FEEDBACK)
    assert r.status_code == 201, r.text
    return liaison.get(f"/api/v1/assignments/{a.id}").json()  # type: ignore[no-any-return]


def timeline(api: Any, world: World, case_id: int) -> list[tuple[str, dict[str, Any]]]:
    items = api.as_user(world.coordinator).get(f"/api/v1/cases/{case_id}/timeline").json()["items"]
    return [(e["action"], e.get("after") or {}) for e in items]


def notices(session: Session, a_id: int, kind: str) -> list[ReminderNotice]:
    found = list(session.scalars(select(ReminderNotice).where(col(ReminderNotice.assignment_id) == a_id,
                                                              col(ReminderNotice.kind) == kind)
                                 .execution_options(populate_existing=True)))
    session.commit()
    return found


# ---------------------------------------------------------------- the flow over the API


def test_with_signoff_on_the_feedback_waits_for_the_head_who_passes_it_to_the_coordinator(
    api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    require_signoff(session, world, "XFXH")
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    seen = submitted_by_liaison(api, world, a)
    assert seen["state"] == "awaiting_signoff" and seen["allowed_actions"] == []
    first = seen["first_submitted_at"]
    assert first is not None

    # The coordinator cannot review it yet: it has not reached him.
    coord = api.as_user(world.coordinator)
    r = post(coord, f"/api/v1/assignments/{a.id}/approve", version=seen["version"], json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert r.json()["error"]["current"] == "awaiting_signoff"
    # The heads were told at once; the coordinator was not (yet).
    assert [n.recipient_id for n in notices(session, a.id, "signoff_requested")] == [world.head("XFXH").id]
    assert notices(session, a.id, "submitted") == []

    head = api.as_user(world.head("XFXH"))
    offered = head.get(f"/api/v1/assignments/{a.id}").json()
    assert offered["allowed_actions"] == ["send_back_signoff", "sign_off"]
    r = post(head, f"/api/v1/assignments/{a.id}/sign-off", version=offered["version"], json={"note": "已核，同意报送"})
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["state"] == "submitted" and signed["first_submitted_at"] == first
    assert r.headers["ETag"] == f'"{signed["version"]}"'
    assert [n.recipient_id for n in notices(session, a.id, "submitted")] == [world.coordinator.id]

    [fb] = coord.get(f"/api/v1/assignments/{a.id}/feedback").json()
    assert (fb["signoff_decision"], fb["signoff_by"], fb["signoff_note"]) == (
        "signed_off", world.head("XFXH").id, "已核，同意报送")
    r = post(coord, f"/api/v1/assignments/{a.id}/approve", version=signed["version"], json={})
    assert r.status_code == 200 and r.json()["state"] == "done"
    events = timeline(api, world, case.id)
    assert ("feedback_submitted", "awaiting_signoff") in [(k, e.get("state")) for k, e in events]
    assert ("signed_off", "submitted") in [(k, e.get("state")) for k, e in events]


def test_with_signoff_off_the_feedback_goes_straight_to_the_coordinator(
    api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    seen = submitted_by_liaison(api, world, a)
    assert seen["state"] == "submitted"
    head = api.as_user(world.head("XFXH"))
    r = post(head, f"/api/v1/assignments/{a.id}/sign-off", version=seen["version"], json={})
    assert r.status_code == 409 and r.json()["error"]["allowed"] == []
    assert notices(session, a.id, "signoff_requested") == []


def test_sent_back_with_a_note_then_corrected_and_signed(
    api: Any, session: Session, world: World, make_case: Any, dispatch: Any, clock: FrozenClock,
) -> None:
    require_signoff(session, world, "XFXH")
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    seen = submitted_by_liaison(api, world, a)
    head = api.as_user(world.head("XFXH"))

    # A note is required: a blank one is refused naming the field, and nothing changes.
    for body in ({}, {"note": ""}, {"note": "   "}):
        r = post(head, f"/api/v1/assignments/{a.id}/send-back-signoff", version=seen["version"], json=body)
        assert r.status_code == 422, body
        assert r.json()["error"]["fields"][0]["field"] == "note"
    assert reload(session, a.id).version == seen["version"]

    r = post(head, f"/api/v1/assignments/{a.id}/send-back-signoff", version=seen["version"],
             json={"note": "请补充整改期限和复查时间"})
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    # The liaison who owns it is told, with the note.
    [told] = notices(session, a.id, "signoff_sent_back")
    assert told.recipient_id == world.liaison("XFXH").id and told.params["reason"] == "请补充整改期限和复查时间"
    liaison = api.as_user(world.liaison("XFXH"))
    again = liaison.get(f"/api/v1/assignments/{a.id}").json()
    assert "submit" in again["allowed_actions"]

    clock.advance(hours=2)
    r = post(liaison, f"/api/v1/assignments/{a.id}/feedback", version=again["version"], json=FEEDBACK)
    assert r.status_code == 201
    resubmitted = liaison.get(f"/api/v1/assignments/{a.id}").json()
    assert resubmitted["state"] == "awaiting_signoff"
    assert resubmitted["first_submitted_at"] == seen["first_submitted_at"]  # the first submission still counts
    history = liaison.get(f"/api/v1/assignments/{a.id}/feedback").json()
    assert [(h["signoff_decision"], h["signoff_note"]) for h in history] == [
        ("sent_back", "请补充整改期限和复查时间"), (None, None)]
    r = post(head, f"/api/v1/assignments/{a.id}/sign-off", version=resubmitted["version"])
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    actions = [k for k, _e in timeline(api, world, case.id)]
    assert actions.count("feedback_submitted") == 2
    assert "signoff_sent_back" in actions and "signed_off" in actions


def test_only_the_departments_head_may_sign_and_nothing_changes_for_anyone_else(
    api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    require_signoff(session, world, "XFXH")
    require_signoff(session, world, "TYJ")  # the other department's head signs his own department's work
    case = make_case(shared=("XFXH", "TYJ"))
    a = dispatch(case, "XFXH")
    seen = submitted_by_liaison(api, world, a)
    version = seen["version"]
    refused: dict[str, int] = {}
    attackers: dict[str, User] = {
        "liaison of the department": world.liaison("XFXH"),
        "head of a department the case is shared with": world.head("TYJ"),
        "head of a department the case is not shared with": world.head("GAJ"),
        "the case's coordinator": world.coordinator,
        "another coordinator": world.user("coordinator2"),
        "leader": world.leader,
        "admin": world.admin,
    }
    for who, user in attackers.items():
        client = api.as_user(user)
        for path, body in (("sign-off", {}), ("send-back-signoff", {"note": "退回"})):
            r = post(client, f"/api/v1/assignments/{a.id}/{path}", version=version, json=body)
            refused[f"{who} {path}"] = r.status_code
    assert refused == {
        **{f"{who} {p}": 403 for who in attackers for p in ("sign-off", "send-back-signoff")},
        # Out of reach altogether: it does not exist for him.
        "head of a department the case is not shared with sign-off": 404,
        "head of a department the case is not shared with send-back-signoff": 404,
    }
    assert reload(session, a.id).version == version and reload(session, a.id).state == "awaiting_signoff"

    head = api.as_user(world.head("XFXH"))
    r = head.post(f"/api/v1/assignments/{a.id}/sign-off", json={})
    assert r.status_code == 428  # every write names the version it read
    r = post(head, f"/api/v1/assignments/{a.id}/sign-off", version=version + 7, json={})
    assert r.status_code == 412
    r = post(head, f"/api/v1/assignments/{a.id}/sign-off", version=version, json={})
    assert r.status_code == 200


def test_a_heads_own_feedback_is_signed_by_submitting_it(
    api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    require_signoff(session, world, "XFXH")
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    head = api.as_user(world.head("XFXH"))
    v = post(head, f"/api/v1/assignments/{a.id}/accept", version=a.version).json()["version"]
    r = post(head, f"/api/v1/assignments/{a.id}/feedback", version=v, json=FEEDBACK)
    assert r.status_code == 201
    assert (r.json()["signoff_decision"], r.json()["signoff_by"]) == ("signed_off", world.head("XFXH").id)
    assert head.get(f"/api/v1/assignments/{a.id}").json()["state"] == "submitted"
    assert notices(session, a.id, "signoff_requested") == []
    assert [n.recipient_id for n in notices(session, a.id, "submitted")] == [world.coordinator.id]


def test_turning_signoff_off_leaves_what_waits_with_the_head(
    api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    require_signoff(session, world, "XFXH")
    case = make_case(shared=("XFXH",))
    waiting = submitted_by_liaison(api, world, dispatch(case, "XFXH"))
    # The admin turns it off over the admin API, as the admin page does.
    admin = api.as_user(world.admin)
    [xfxh] = [d for d in admin.get("/api/v1/departments").json() if d["code"] == "XFXH"]
    r = admin.patch(f"/api/v1/departments/{xfxh['id']}", json={"signoff_required": False},
                    headers={"If-Match": f'"{xfxh["version"]}"'})
    assert r.status_code == 200 and r.json()["signoff_required"] is False

    # What already waits stays with the head; new feedback goes straight to the coordinator.
    head = api.as_user(world.head("XFXH"))
    assert head.get(f"/api/v1/assignments/{waiting['id']}").json()["allowed_actions"] == [
        "send_back_signoff", "sign_off"]
    assert submitted_by_liaison(api, world, dispatch(case, "XFXH"))["state"] == "submitted"
    r = post(head, f"/api/v1/assignments/{waiting['id']}/sign-off", version=waiting["version"])
    assert r.status_code == 200 and r.json()["state"] == "submitted"


# ---------------------------------------------------------------- inbox, reminders, figures


def test_the_heads_inbox_lists_the_signoffs_waiting_for_him_only(
    app: Any, api: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    require_signoff(session, world, "XFXH")
    require_signoff(session, world, "TYJ")
    case = make_case(shared=("XFXH", "TYJ"))
    mine = submitted_by_liaison(api, world, dispatch(case, "XFXH"))["id"]
    theirs = submitted_by_liaison(api, world, dispatch(case, "TYJ"), code="TYJ")["id"]
    session.commit()

    def signoffs(user: User) -> set[int]:
        found = inbox(session, user, clock.now())
        session.commit()
        assert found is not None
        [lst] = [x for x in found if x.name == "signoffs"]
        return {i.id for i in lst.items}

    assert signoffs(world.head("XFXH")) == {mine}
    assert signoffs(world.head("TYJ")) == {theirs}
    assert signoffs(world.head("GAJ")) == set()
    page = browser(app, world.head("XFXH")).get("/inbox").text
    assert "待审签的反馈" in page
    assert _section(page, "signoffs") == {mine}
    # Signed off: no longer waiting.
    v = reload(session, mine).version
    post(api.as_user(world.head("XFXH")), f"/api/v1/assignments/{mine}/sign-off", version=v)
    assert signoffs(world.head("XFXH")) == set()


def test_the_reminder_pass_chases_the_head_after_the_configured_working_days(
    session: Session, clock: FrozenClock, world: World, make_case: Any,
) -> None:
    require_signoff(session, world, "WJW")
    monday = local(2026, 10, 12, 10)
    clock.set(monday)
    case = make_case(shared=("WJW",))
    liaison = world.liaison("WJW")
    a = assignments.dispatch(session, clock, world.coordinator, case.id,
                             DispatchIn(department_id=world.dept("WJW").id, working_days=10))
    session.flush()
    assignments.accept(session, clock, liaison, a.id, a.version)  # type: ignore[arg-type]
    session.flush()
    assignments.submit_feedback(session, clock, liaison, a.id, a.version,  # type: ignore[arg-type]
                                FeedbackIn(narrative="已完成现场检查，责令整改"))
    session.commit()
    subject = f"【待审签】{case.reference} {case.title}：反馈待审签"

    day = Day(session, clock)
    # Monday: the event itself reaches the head in his digest; no reminder yet.
    monday_mail = day.run(local(2026, 10, 12, 15))
    assert [u for u, _s in monday_mail] == ["head_wjw"] and "待审签" in monday_mail[0][1]
    assert notices(session, a.id, "signoff_pending") == []
    # Tuesday: one working day waiting — the heads are reminded, nobody else.
    assert day.run(local(2026, 10, 13, 9)) == [("head_wjw", subject)]
    body = outbox_rows(session)[-1].body_text
    assert "反馈已于 2026-10-12（周一）10:00 提交，等待您审签" in body and "已等待 1 个工作日" in body
    assert f"/assignments/{a.id}" in body
    assert day.run(local(2026, 10, 13, 11)) == []  # once a day
    # Signed off: the reminder stops; the coordinator's review starts from now.
    assignments.sign_off(session, clock, world.head("WJW"), a.id, reload(session, a.id).version, None)  # type: ignore[arg-type]
    session.commit()
    assert [u for u, _s in day.run(local(2026, 10, 14, 9))] == ["coordinator"]
    assert notices(session, a.id, "signoff_pending")[0].local_date.isoformat() == "2026-10-13"


def test_the_signoff_reminder_waits_as_long_as_configured(
    session: Session, clock: FrozenClock, world: World, make_case: Any,
) -> None:
    require_signoff(session, world, "WJW")
    clock.set(local(2026, 10, 12, 10))
    case = make_case(shared=("WJW",))
    liaison = world.liaison("WJW")
    a = assignments.dispatch(session, clock, world.coordinator, case.id,
                             DispatchIn(department_id=world.dept("WJW").id, working_days=10))
    session.flush()
    assignments.accept(session, clock, liaison, a.id, a.version)  # type: ignore[arg-type]
    session.flush()
    assignments.submit_feedback(session, clock, liaison, a.id, a.version,  # type: ignore[arg-type]
                                FeedbackIn(narrative="已完成现场检查"))
    session.commit()
    day = Day(session, clock, Settings(demo=True, reminder_signoff_after_working_days=2))
    day.run(local(2026, 10, 12, 15))  # the event notice
    assert day.run(local(2026, 10, 13, 9)) == []
    assert [u for u, _s in day.run(local(2026, 10, 14, 9))] == ["head_wjw"]
    assert [n.params["waiting"] for n in notices(session, a.id, "signoff_pending")] == [2]


def test_on_time_counts_the_liaisons_submission_not_the_heads_signoff(
    session: Session, clock: FrozenClock, world: World, make_case: Any,
) -> None:
    """Week 2026-W49: due Thursday 3 Dec 17:30; the head signs on Friday, after the due time."""
    require_signoff(session, world, "XFXH")
    case = make_case(shared=("XFXH",))
    liaison, head = world.liaison("XFXH"), world.head("XFXH")

    def dispatched() -> Assignment:
        a = assignments.dispatch(session, clock, world.coordinator, case.id, DispatchIn(
            department_id=world.dept("XFXH").id, working_days=2, parallel=True))
        session.flush()
        assignments.accept(session, clock, liaison, a.id, a.version)  # type: ignore[arg-type]
        session.commit()
        return a

    on_time, late, waiting = dispatched(), dispatched(), dispatched()
    assert on_time.feedback_due_at == datetime(2026, 12, 3, 17, 30, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 12, 3, 16, 0, tzinfo=SHANGHAI))
    for a in (on_time, waiting):
        assignments.submit_feedback(session, clock, liaison, a.id, reload(session, a.id).version,  # type: ignore[arg-type]
                                    FeedbackIn(narrative="已调解"))
    clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI))
    assignments.submit_feedback(session, clock, liaison, late.id, reload(session, late.id).version,  # type: ignore[arg-type]
                                FeedbackIn(narrative="已调解"))
    for a in (on_time, late):
        assignments.sign_off(session, clock, head, a.id, reload(session, a.id).version, None)  # type: ignore[arg-type]
    session.commit()
    assert reload(session, waiting.id).state == AssignmentState.AWAITING_SIGNOFF  # type: ignore[arg-type]

    after = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    report = weekly_report(session, IsoWeek(2026, 49), world.dept("XFXH").id, now=after, settings=Settings())
    f = report.figures
    # Due in the week: all three.  On time: the one signed late and the one still with the head.
    assert (f.assignments_due, f.on_time, f.overdue_open) == (3, 2, 0)
    rows = weekly_rows(session, IsoWeek(2026, 49), world.dept("XFXH").id, now=after, settings=Settings())
    assert {r.assignment_id: r.on_time for r in rows.assignments_due} == {
        on_time.id: True, late.id: False, waiting.id: True}


# ---------------------------------------------------------------- the assignment page


def test_the_page_offers_the_head_the_signoff_forms_and_both_work(
    app: Any, api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    require_signoff(session, world, "XFXH")
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    submitted_by_liaison(api, world, a)
    path = f"/assignments/{a.id}"
    for user in (world.liaison("XFXH"), world.coordinator, world.leader):
        page = browser(app, user).get(path).text
        assert not has_form(page, f"{path}/sign-off") and not has_form(page, f"{path}/send-back-signoff")
    head = browser(app, world.head("XFXH"))
    page = head.get(path).text
    assert "待审签" in page and "待部门负责人审签" in page
    assert has_form(page, f"{path}/sign-off") and has_form(page, f"{path}/send-back-signoff")

    # Send back without a note: refused with the reason, nothing changes.
    before = state_of(app, a.id)
    r = head.post(f"{path}/send-back-signoff", data={**form_fields(page, f"{path}/send-back-signoff"), "note": " "})
    assert r.status_code == 422 and "输入校验未通过：说明" in r.text
    assert state_of(app, a.id) == before
    page = head.get(path).text
    r = head.post(f"{path}/send-back-signoff",
                  data={**form_fields(page, f"{path}/send-back-signoff"), "note": "请附上调解协议书"})
    assert r.status_code == 303
    assert state_of(app, a.id)[0] == AssignmentState.ACCEPTED
    liaison_page = browser(app, world.liaison("XFXH")).get(path).text
    assert "审签：退回修改" in liaison_page and "请附上调解协议书" in liaison_page
    assert has_form(liaison_page, f"{path}/feedback")

    # Submitted again, then signed off from the page: it reaches the coordinator.
    liaison = api.as_user(world.liaison("XFXH"))
    v = liaison.get(f"/api/v1/assignments/{a.id}").json()["version"]
    assert post(liaison, f"/api/v1/assignments/{a.id}/feedback", version=v, json=FEEDBACK).status_code == 201
    page = head.get(path).text
    r = head.post(f"{path}/sign-off", data={**form_fields(page, f"{path}/sign-off"), "note": "同意"})
    assert r.status_code == 303
    assert state_of(app, a.id)[0] == AssignmentState.SUBMITTED
    coordinator_page = browser(app, world.coordinator).get(path).text
    assert has_form(coordinator_page, f"{path}/approve") and "审签：通过" in coordinator_page


def test_the_reminder_threshold_is_a_setting_with_a_sane_range() -> None:
    """GONGZHI_REMINDER_SIGNOFF_AFTER_WORKING_DAYS: default 1, at least 1."""
    assert Settings(demo=True).reminder_signoff_after_working_days == 1
    with pytest.raises(ValidationError):
        Settings(demo=True, reminder_signoff_after_working_days=0)


def test_the_departments_queue_counts_what_waits_for_the_head(
    app: Any, api: Any, session: Session, world: World, make_case: Any, dispatch: Any,
) -> None:
    """Submitted, the item leaves 办理中 for 待审签, which the queue shows beside 待审核; signed off, it is 待审核."""
    require_signoff(session, world, "XFXH")
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    liaison = api.as_user(world.liaison("XFXH"))
    page = browser(app, world.liaison("XFXH"))
    assert "待审签" not in page.get("/queue").text  # nothing waits for the head: no such bucket
    seen = submitted_by_liaison(api, world, a)
    counts = liaison.get("/api/v1/queue").json()["counts"]
    assert (counts["in_progress"], counts["awaiting_signoff"], counts["awaiting_review"]) == (0, 1, 0)
    shown = page.get("/queue").text
    assert '<li class="bucket bucket-awaiting_signoff passive">' in shown and "待审签" in shown
    # The head, who signs them off, is taken to them in his inbox.
    heads_queue = browser(app, world.head("XFXH")).get("/queue").text
    assert re.search(r'bucket-awaiting_signoff">\s*<a href="/inbox#signoffs">', heads_queue)
    head = api.as_user(world.head("XFXH"))
    assert post(head, f"/api/v1/assignments/{a.id}/sign-off", version=seen["version"],
                json={"note": "同意"}).status_code == 200
    counts = liaison.get("/api/v1/queue").json()["counts"]
    assert (counts["awaiting_signoff"], counts["awaiting_review"]) == (0, 1)
    assert "bucket-awaiting_signoff" not in page.get("/queue").text
