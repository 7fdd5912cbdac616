"""承办人: inside a department, a liaison or head hands accepted work to a named colleague.

POST /api/v1/assignments/{id}/assignee (If-Match) and the 交办 form on the
assignment page call the same use case (shared/assignments/plan.hand_over),
offered as "assign" by permissions.available_actions.  The colleague then finds
it first in his queue, hears of it through the notices, and the timeline says
who handed it to whom.  Tried as an attacker would: another department's
assignment is not there (404), another department's person or a departed one
is refused naming the field (422), and nothing changes.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from shared.assignments.models import Assignment
from shared.outbox.models import OutboxMessage
from shared.reminders.models import ReminderNotice
from tests.factories import World, add_colleague
from tests.test_pages import browser, form_fields, has_form, immediate, submit
from tests.test_workflow_api import post

ASSIGNEE = "/api/v1/assignments/{}/assignee"


def _accepted(api: Any, world: World, make_case: Any, dispatch: Any, *, days: int = 5) -> dict[str, Any]:
    """An assignment of 消费者协会 on a case shared with it and with 体育局, accepted by its liaison."""
    case = make_case(shared=("XFXH", "TYJ"))
    a = dispatch(case, "XFXH", days=days)
    liaison = api.as_user(world.liaison("XFXH"))
    r = post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _row(app: Any, assignment_id: int) -> Assignment:
    with Session(app.state.engine) as s:
        a = s.get(Assignment, assignment_id)
        assert a is not None
        return a


def test_the_head_hands_accepted_work_to_a_colleague_who_hears_of_it(api, app, world, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                                     session, clock):
    colleague = add_colleague(session, clock, world, "XFXH", "liaison2_xfxh", "钱联络")
    session.commit()
    immediate(session, colleague)
    a = _accepted(api, world, make_case, dispatch)
    assert a["assignee_id"] == world.liaison("XFXH").id and "assign" in a["allowed_actions"]

    head = api.as_user(world.head("XFXH"))
    r = post(head, ASSIGNEE.format(a["id"]), version=a["version"], json={"assignee_id": colleague.id})
    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] == colleague.id and r.json()["version"] == a["version"] + 1
    assert r.headers["ETag"] == f'"{a["version"] + 1}"'

    with Session(app.state.engine) as s:
        [notice] = s.scalars(select(ReminderNotice).where(col(ReminderNotice.kind) == "assigned")).all()
        assert notice.recipient_id == colleague.id and notice.assignment_id == a["id"]
        [mail] = s.scalars(select(OutboxMessage).where(col(OutboxMessage.kind) == "notice.assigned")).all()
    assert mail.to_address == colleague.email
    assert mail.subject.startswith("【交办】")
    assert "已交由您承办" in mail.body_text and "李主任" in mail.body_text  # who handed it over (the head)

    # The timeline says who handed it to whom.
    line = [e for e in head.get(f"/api/v1/cases/{a['case_id']}/timeline").json()["items"] if e["action"] == "assigned"]
    assert line and line[0]["after"]["assignee_name"] == "钱联络" and line[0]["before"]["assignee_name"] == "李联络"

    # Handing it to the one who carries it already changes nothing.
    same = post(head, ASSIGNEE.format(a["id"]), version=a["version"] + 1, json={"assignee_id": colleague.id})
    assert same.status_code == 409 and same.json()["error"]["code"] == "assignee_unchanged"
    # The colleague, now carrying it, may hand it on, back to the liaison.
    back = post(api.as_user(colleague), ASSIGNEE.format(a["id"]), version=a["version"] + 1,
                json={"assignee_id": world.liaison("XFXH").id})
    assert back.status_code == 200 and back.json()["assignee_id"] == world.liaison("XFXH").id


def test_the_assignee_sees_his_work_first_in_his_queue(api, app, world, make_case, dispatch, session, clock):  # type: ignore[no-untyped-def]
    colleague = add_colleague(session, clock, world, "XFXH", "liaison2_xfxh", "钱联络")
    session.commit()
    urgent = [dispatch(make_case(shared=("XFXH",)), "XFXH", days=1) for _ in range(3)]
    later = _accepted(api, world, make_case, dispatch, days=20)
    liaison = api.as_user(world.liaison("XFXH"))
    # He accepted it, so it is his (承办人): first in his queue, ahead of more urgent work.
    before = [i["id"] for i in liaison.get("/api/v1/queue").json()["items"]]
    assert before == [later["id"], *(a.id for a in urgent)]
    # Read once, so the process keeps the department's rows: the handover must still show at once.
    assert [i["id"] for i in api.as_user(colleague).get("/api/v1/queue").json()["items"]] == [
        *(a.id for a in urgent), later["id"]]  # the department's work, most urgent first

    r = post(liaison, ASSIGNEE.format(later["id"]), version=later["version"], json={"assignee_id": colleague.id})
    assert r.status_code == 200, r.text
    theirs = api.as_user(colleague).get("/api/v1/queue").json()
    assert [i["id"] for i in theirs["items"]] == [later["id"], *(a.id for a in urgent)]
    assert theirs["items"][0]["assignee_id"] == colleague.id
    # The liaison's queue is in due order now; the counts are the department's, whoever reads them.
    mine = liaison.get("/api/v1/queue").json()
    assert [i["id"] for i in mine["items"]] == [*(a.id for a in urgent), later["id"]]
    assert mine["counts"] == theirs["counts"]
    # Overdue and due soon are still the items' own flags (shared/assignments/status.py), not the order.
    clock.advance(days=3)
    theirs = api.as_user(colleague).get("/api/v1/queue").json()
    assert theirs["items"][0]["id"] == later["id"] and not theirs["items"][0]["feedback_overdue"]
    assert all(i["feedback_overdue"] for i in theirs["items"][1:])
    assert theirs["counts"]["overdue"] == 3

    # The queue page lists it first too, marked as his.
    page = browser(app, colleague).get("/queue").text
    first_row = page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f'/assignments/{later["id"]}"' in first_row and "我承办" in first_row
    assert "协办" not in first_row and "主办" in first_row


def test_only_an_active_colleague_of_the_same_department_may_carry_it(api, app, world, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                                      session, clock):
    gone = add_colleague(session, clock, world, "XFXH", "left_xfxh", "周离职", active=False)
    session.commit()
    a = _accepted(api, world, make_case, dispatch)
    head = api.as_user(world.head("XFXH"))
    url = ASSIGNEE.format(a["id"])
    for someone in (world.liaison("TYJ").id, world.head("GAJ").id, gone.id, world.coordinator.id, 999_999):
        r = post(head, url, version=a["version"], json={"assignee_id": someone})
        assert r.status_code == 422, (someone, r.text)
        [field] = r.json()["error"]["fields"]
        assert field["field"] == "assignee_id" and field["reason"] == "承办人必须是该部门的在职用户"
    assert post(head, url, json={"assignee_id": world.head("XFXH").id}).status_code == 428
    assert post(head, url, version=a["version"] - 1, json={"assignee_id": world.head("XFXH").id}).status_code == 412
    assert post(head, url, version=a["version"], json={"assignee_id": "7"}).status_code == 422  # JSON numbers only
    assert _row(app, a["id"]).assignee_id == world.liaison("XFXH").id and _row(app, a["id"]).version == a["version"]

    # Not yet accepted: nothing to hand over (the department accepts first).
    fresh = dispatch(make_case(shared=("XFXH",)), "XFXH")
    r = post(head, ASSIGNEE.format(fresh.id), version=fresh.version, json={"assignee_id": world.head("XFXH").id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert "assign" not in api.as_user(world.head("XFXH")).get(f"/api/v1/assignments/{fresh.id}").json()[
        "allowed_actions"]


def test_another_departments_assignment_is_not_there_to_hand_over(api, app, world, make_case, dispatch):  # type: ignore[no-untyped-def]
    a = _accepted(api, world, make_case, dispatch)  # the case is shared with 体育局 too
    url = ASSIGNEE.format(a["id"])
    attackers = (world.liaison("TYJ"), world.head("TYJ"), world.liaison("GAJ"), world.coordinator, world.leader,
                 world.admin)
    for attacker in attackers:
        client = api.as_user(attacker)
        for target in (attacker.id, world.head("XFXH").id):
            r = post(client, url, version=a["version"], json={"assignee_id": target})
            assert r.status_code == 404, (attacker.username, r.text)
        assert "assign" not in (client.get(f"/api/v1/assignments/{a['id']}").json().get("allowed_actions") or [])
    # Even guessing ids of assignments that do not exist answers the same.
    assert post(api.as_user(world.liaison("TYJ")), ASSIGNEE.format(a["id"] + 1000), version=1,
                json={"assignee_id": world.liaison("TYJ").id}).status_code == 404
    # The page form is refused alike, as not found, and changes nothing.
    tyj = browser(app, world.liaison("TYJ"))
    page = tyj.get(f"/assignments/{a['id']}")
    assert page.status_code == 200 and not has_form(page.text, f"/assignments/{a['id']}/assignee")
    # With a genuine one-time token (from the comment form he does get), the handover is still not found.
    token = form_fields(tyj.get(f"/cases/{a['case_id']}").text, f"/cases/{a['case_id']}/comment")
    r = tyj.post(f"/assignments/{a['id']}/assignee",
                 data={**token, "version": str(a["version"]), "assignee_id": str(world.liaison("TYJ").id)})
    assert r.status_code == 404
    assert _row(app, a["id"]).assignee_id == world.liaison("XFXH").id and _row(app, a["id"]).version == a["version"]


def test_the_page_form_hands_it_over_and_the_case_timeline_says_so(api, app, world, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                                   session, clock):
    colleague = add_colleague(session, clock, world, "XFXH", "liaison2_xfxh", "钱联络")
    add_colleague(session, clock, world, "TYJ", "liaison2_tyj", "孙二联络")  # another department's: not offered
    session.commit()
    a = _accepted(api, world, make_case, dispatch)
    path = f"/assignments/{a['id']}"
    liaison = browser(app, world.liaison("XFXH"))
    page = liaison.get(path).text
    assert has_form(page, f"{path}/assignee") and "钱联络" in page and "孙二联络" not in page
    form = page.split(f'action="{path}/assignee"', 1)[1].split("</form>", 1)[0]
    assert "李联络" not in form  # the one who carries it now is not offered to himself
    assert "李主任（部门负责人）" in form

    # An unknown colleague typed into the form: refused, with the reason, nothing changed.
    r = submit(liaison, path, f"{path}/assignee", assignee_id=str(world.liaison("TYJ").id))
    assert r.status_code == 422 and "承办人必须是该部门的在职用户" in r.text
    r = submit(liaison, path, f"{path}/assignee", assignee_id=str(colleague.id))
    assert r.status_code == 303 and r.headers["location"] == path
    after = liaison.get(path).text
    assert "已交办，承办人已收到通知" in after and "钱联络" in after
    assert _row(app, a["id"]).assignee_id == colleague.id
    case_page = browser(app, world.coordinator).get(f"/cases/{a['case_id']}").text
    assert "交办承办人" in case_page and "承办人：钱联络" in case_page and "原承办人：李联络" in case_page
    # The head sees the form as well; the coordinator does not.
    assert has_form(browser(app, world.head("XFXH")).get(path).text, f"{path}/assignee")
    assert not has_form(browser(app, world.coordinator).get(path).text, f"{path}/assignee")
