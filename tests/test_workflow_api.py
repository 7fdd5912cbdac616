"""The end-to-end story over the JSON API: open, share, dispatch, accept, feed back, review, close."""

from __future__ import annotations

import pytest

from shared.assignments.models import AssignmentState
from shared.assignments.rules import ALLOWED, NOTICE_ACTIONS, Action
from tests.factories import credit_code

FEEDBACK = {
    "narrative": "已联合检查 3 家门店，责令整改 2 家，立案 1 起。",
    "enterprises_inspected": 3,
    "problems_found": 2,
    "rectification_orders": 2,
    "cases_filed": 1,
    "fines_yuan": "5000.00",
    "complaints_mediated": 12,
    "losses_recovered_yuan": "38600.50",
}


def post(client, url, version=None, **kwargs):  # type: ignore[no-untyped-def]
    headers = kwargs.pop("headers", {})
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.post(url, headers=headers, **kwargs)


def test_the_whole_story(api, world):
    coord = api.as_user(world.coordinator)
    r = coord.post("/api/v1/cases", json={
        "title": "某健身连锁预付卡集中投诉", "source": "hotline_12315", "category": "预付式消费",
        "enterprise_name": "某某健身管理有限公司", "enterprise_credit_code": credit_code(),
        "complainant_name": "李四", "complainant_phone": "13912345678",
        "shared_with": [world.dept("SWJ").id, world.dept("TYJ").id, world.dept("XFXH").id],
    })
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["reference"].startswith("GZ-2026-")
    assert case["shared_with"] == sorted([world.dept("SWJ").id, world.dept("TYJ").id, world.dept("XFXH").id])
    assert r.headers["ETag"] == '"1"'

    r = coord.post(f"/api/v1/cases/{case['id']}/assignments",
                   json={"department_id": world.dept("TYJ").id, "working_days": 5, "instructions": "核查经营许可"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["state"] == "dispatched"
    # Tuesday 2026-12-01 10:00 + 5 working days → Tuesday 2026-12-08 17:30 Shanghai = 09:30 UTC
    assert a["feedback_due_at"].startswith("2026-12-08T09:30:00")
    assert a["acceptance_due_at"].startswith("2026-12-02T09:30:00")

    sports = api.as_user(world.liaison("TYJ"))
    r = post(sports, f"/api/v1/assignments/{a['id']}/accept", version=a["version"])
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["state"] == "accepted" and a["assignee_id"] == world.liaison("TYJ").id

    r = post(sports, f"/api/v1/assignments/{a['id']}/feedback", version=a["version"], json=FEEDBACK)
    assert r.status_code == 201, r.text
    assert r.json()["fines_yuan"] == "5000.00"
    a = sports.get(f"/api/v1/assignments/{a['id']}").json()
    assert a["state"] == "submitted"

    r = post(coord, f"/api/v1/assignments/{a['id']}/approve", version=a["version"], json={"comment": "同意办结"})
    assert r.status_code == 200 and r.json()["state"] == "done"

    case = coord.get(f"/api/v1/cases/{case['id']}").json()
    r = post(coord, f"/api/v1/cases/{case['id']}/close", version=case["version"], json={"reason": "已处理完毕"})
    assert r.status_code == 200 and r.json()["status"] == "closed"

    actions = [e["action"] for e in coord.get(f"/api/v1/cases/{case['id']}/timeline").json()["items"]]
    for expected in ("created", "dispatched", "accepted", "feedback_submitted", "approved", "closed"):
        assert expected in actions


# Every (state, action) pair: the legal ones succeed, the others are a 409 naming what is allowed.
# 催办 and 督办 change no state: tests/test_urge.py covers them.
TRANSITIONS = [a for a in Action if a not in NOTICE_ACTIONS]
ACTION_CALLS = {
    Action.ACCEPT: ("liaison", "accept", None),
    Action.RETURN: ("liaison", "return", {"reason": "not_our_jurisdiction"}),
    Action.SUBMIT: ("liaison", "feedback", FEEDBACK),
    Action.APPROVE: ("coordinator", "approve", {}),
    Action.SEND_BACK: ("coordinator", "send-back", {"reason": "证据不足，请补充现场照片"}),
    Action.CANCEL: ("coordinator", "cancel", {"reason": "投诉人撤诉"}),
    Action.REDISPATCH: ("coordinator", "redispatch", {}),
    Action.REQUEST_EXTENSION: ("liaison", "extensions", {"extra_working_days": 3, "reason": "需等待检测报告"}),
    Action.SIGN_OFF: ("head", "sign-off", {"note": "同意报送"}),
    Action.SEND_BACK_SIGNOFF: ("head", "send-back-signoff", {"note": "请补充整改期限"}),
    # 交办 to the department's head (the liaison carries it once he has accepted it).
    Action.ASSIGN: ("liaison", "assignee", lambda w: {"assignee_id": w.head("TYJ").id}),
}

PATH_TO = {
    AssignmentState.DISPATCHED: [],
    AssignmentState.ACCEPTED: [Action.ACCEPT],
    # Reached with the department's head sign-off (审签) on; everywhere else it is off.
    AssignmentState.AWAITING_SIGNOFF: [Action.ACCEPT, Action.SUBMIT],
    AssignmentState.SUBMITTED: [Action.ACCEPT, Action.SUBMIT],
    AssignmentState.DONE: [Action.ACCEPT, Action.SUBMIT, Action.APPROVE],
    AssignmentState.RETURNED: [Action.RETURN],
    AssignmentState.CANCELLED: [Action.CANCEL],
}


def _client(api, world, who, dept="TYJ"):  # type: ignore[no-untyped-def]
    return api.as_user({"liaison": world.liaison(dept), "head": world.head(dept)}.get(who, world.coordinator))


def _do(api, world, a_id, action, dept="TYJ"):  # type: ignore[no-untyped-def]
    who, path, body = ACTION_CALLS[action]
    if callable(body):
        body = body(world)
    client = _client(api, world, who, dept)
    version = client.get(f"/api/v1/assignments/{a_id}").json()["version"]
    return post(client, f"/api/v1/assignments/{a_id}/{path}", version=version, json=body)


@pytest.mark.parametrize("state", list(PATH_TO))
def test_every_transition_from(state, api, world, make_case, dispatch, session):
    department = world.dept("TYJ")
    department.signoff_required = state == AssignmentState.AWAITING_SIGNOFF
    session.add(department)
    session.commit()
    case = make_case(shared=("TYJ",))
    for action in TRANSITIONS:
        a = dispatch(case, "TYJ")
        for step in PATH_TO[state]:
            assert _do(api, world, a.id, step).status_code in (200, 201)
        r = _do(api, world, a.id, action)
        legal = action in ALLOWED[state]
        if legal:
            assert r.status_code in (200, 201), (state, action, r.text)
        else:
            assert r.status_code == 409, (state, action, r.text)
            err = r.json()["error"]
            assert err["code"] == "invalid_transition"
            # Named: what this user may do now, the same list the API offers him.
            client = _client(api, world, ACTION_CALLS[action][0])
            assert err["allowed"] == client.get(f"/api/v1/assignments/{a.id}").json()["allowed_actions"]
            assert set(err["allowed"]) <= {x.value for x in ALLOWED[state]} | {x.value for x in NOTICE_ACTIONS}
            assert err["current"] == state.value


def test_illegal_transition_message_names_allowed_actions_in_chinese(api, world, make_case, dispatch):
    a = dispatch(make_case(), "TYJ")
    client = api.as_user(world.coordinator)
    r = post(client, f"/api/v1/assignments/{a.id}/approve", version=a.version, json={})
    assert r.status_code == 409
    msg = r.json()["error"]["message"]
    assert "待签收" in msg and "审核通过" in msg and msg.endswith("可执行：撤销、挂牌督办、催办")
    r = post(api.as_user(world.coordinator, lang="en"), f"/api/v1/assignments/{a.id}/approve",
             version=a.version, json={})
    # What the coordinator may do now.
    assert "allowed: cancel, put under supervision, urge" in r.json()["error"]["message"]


def test_returned_twice_is_flagged_and_cannot_bounce_a_third_time(api, world, make_case, dispatch):
    a = dispatch(make_case(), "GAJ")
    coord = api.as_user(world.coordinator)
    police = api.as_user(world.liaison("GAJ"))
    for n in (1, 2):
        v = police.get(f"/api/v1/assignments/{a.id}").json()["version"]
        r = post(police, f"/api/v1/assignments/{a.id}/return", version=v,
                 json={"reason": "other", "note": "非本部门职责"})
        assert r.status_code == 200 and r.json()["return_count"] == n
        assert r.json()["needs_decision"] is (n == 2)
        if n == 1:
            r = post(coord, f"/api/v1/assignments/{a.id}/redispatch", version=r.json()["version"], json={})
            assert r.status_code == 200
    flagged = coord.get("/api/v1/assignments", params={"needs_decision": "true"}).json()["items"]
    assert [x["id"] for x in flagged] == [a.id]
    v = coord.get(f"/api/v1/assignments/{a.id}").json()["version"]
    r = post(coord, f"/api/v1/assignments/{a.id}/redispatch", version=v, json={})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "decision_note"
    r = post(coord, f"/api/v1/assignments/{a.id}/redispatch", version=v,
             json={"decision_note": "经审定，由公安局牵头办理"})
    assert r.status_code == 200 and r.json()["needs_decision"] is False
    assert "return" not in r.json()["allowed_actions"]
    r = post(police, f"/api/v1/assignments/{a.id}/return", version=r.json()["version"],
             json={"reason": "duplicate"})
    assert r.status_code == 409


def test_return_reason_other_needs_a_note(api, world, make_case, dispatch):
    a = dispatch(make_case(), "GAJ")
    r = post(api.as_user(world.liaison("GAJ")), f"/api/v1/assignments/{a.id}/return", version=a.version,
             json={"reason": "other"})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["reason"] == "退回原因为“其他”时须填写说明"


def test_extension_approved_by_head_moves_due_date_and_is_counted(api, world, make_case, dispatch):
    a = dispatch(make_case(), "XFXH", days=10)
    liaison = api.as_user(world.liaison("XFXH"))
    a_json = post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version).json()
    r = post(liaison, f"/api/v1/assignments/{a.id}/extensions", version=a_json["version"],
             json={"extra_working_days": 3, "reason": "需等待司法鉴定结果"})
    assert r.status_code == 201
    ext = r.json()
    again = post(liaison, f"/api/v1/assignments/{a.id}/extensions",
                 version=liaison.get(f"/api/v1/assignments/{a.id}").json()["version"],
                 json={"extra_working_days": 1, "reason": "再延"})
    assert again.status_code == 409
    # A liaison cannot approve his own department's request; the head can.
    v = liaison.get(f"/api/v1/assignments/{a.id}").json()["version"]
    assert post(liaison, f"/api/v1/assignments/{a.id}/extensions/{ext['id']}/approve", version=v).status_code == 403
    head = api.as_user(world.head("XFXH"))
    r = post(head, f"/api/v1/assignments/{a.id}/extensions/{ext['id']}/approve", version=v,
             json={"comment": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    after = head.get(f"/api/v1/assignments/{a.id}").json()
    # 2026-12-15 + 3 working days = 2026-12-18 17:30 local
    assert after["original_feedback_due_at"].startswith("2026-12-15T09:30")
    assert after["feedback_due_at"].startswith("2026-12-18T09:30")
    assert after["extended"] is True


def test_extension_denied_keeps_the_due_date(api, world, make_case, dispatch):
    a = dispatch(make_case(), "XFXH", days=10)
    liaison = api.as_user(world.liaison("XFXH"))
    v = post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version).json()["version"]
    ext = post(liaison, f"/api/v1/assignments/{a.id}/extensions", version=v,
               json={"extra_working_days": 5, "reason": "人手不足"}).json()
    coord = api.as_user(world.coordinator)
    v = coord.get(f"/api/v1/assignments/{a.id}").json()["version"]
    r = post(coord, f"/api/v1/assignments/{a.id}/extensions/{ext['id']}/deny", version=v,
             json={"comment": "请按期办结"})
    assert r.status_code == 200 and r.json()["state"] == "denied"
    after = coord.get(f"/api/v1/assignments/{a.id}").json()
    assert after["feedback_due_at"] == after["original_feedback_due_at"] and after["extended"] is False


def test_send_back_then_resubmit_keeps_first_submission_time(api, world, make_case, dispatch, clock):
    a = dispatch(make_case(), "SWJ")
    liaison, coord = api.as_user(world.liaison("SWJ")), api.as_user(world.coordinator)
    v = post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version).json()["version"]
    post(liaison, f"/api/v1/assignments/{a.id}/feedback", version=v + 0, json=FEEDBACK)
    first = coord.get(f"/api/v1/assignments/{a.id}").json()
    r = post(coord, f"/api/v1/assignments/{a.id}/send-back", version=first["version"],
             json={"reason": "请补充整改通知书"})
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    clock.advance(hours=3)
    v = liaison.get(f"/api/v1/assignments/{a.id}").json()["version"]
    assert post(liaison, f"/api/v1/assignments/{a.id}/feedback", version=v, json=FEEDBACK).status_code == 201
    again = coord.get(f"/api/v1/assignments/{a.id}").json()
    assert again["first_submitted_at"] == first["first_submitted_at"]
    history = coord.get(f"/api/v1/assignments/{a.id}/feedback").json()
    assert [h["review_decision"] for h in history] == ["sent_back", None]


def test_case_cannot_close_with_open_assignments_and_reopens(api, world, make_case, dispatch):
    case = make_case()
    dispatch(case, "TYJ")
    coord = api.as_user(world.coordinator)
    r = post(coord, f"/api/v1/cases/{case.id}/close", version=case.version, json={"reason": "完"})
    assert r.status_code == 409 and "1 项任务未办结" in r.json()["error"]["message"]
    a = coord.get("/api/v1/assignments", params={"case_id": case.id}).json()["items"][0]
    post(coord, f"/api/v1/assignments/{a['id']}/cancel", version=a["version"], json={"reason": "重复立案"})
    v = coord.get(f"/api/v1/cases/{case.id}").json()["version"]
    closed = post(coord, f"/api/v1/cases/{case.id}/close", version=v, json={"reason": "重复"})
    assert closed.status_code == 200
    r = post(coord, f"/api/v1/cases/{case.id}/assignments", json={"department_id": world.dept("TYJ").id})
    assert r.status_code == 409
    reopened = post(coord, f"/api/v1/cases/{case.id}/reopen", version=closed.json()["version"],
                    json={"reason": "投诉人补充新证据"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    actions = [e["action"] for e in coord.get(f"/api/v1/cases/{case.id}/timeline").json()["items"]]
    assert actions.count("closed") == 1 and "reopened" in actions


def test_typical_case_flag(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    r = coord.patch(f"/api/v1/cases/{case.id}", json={"is_typical": True}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["is_typical"] is True
    listed = coord.get("/api/v1/cases", params={"typical": "true"}).json()["items"]
    assert [c["id"] for c in listed] == [case.id]
    actions = [e["action"] for e in coord.get(f"/api/v1/cases/{case.id}/timeline").json()["items"]]
    assert "typical_flagged" in actions


def test_joint_inspection_gives_each_department_its_own_assignment(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    r = coord.post("/api/v1/inspections", json={
        "case_id": case.id, "title": "预付卡门店联合检查", "lead_department_id": world.dept("SCJG").id,
        "participant_department_ids": [world.dept("GAJ").id, world.dept("TYJ").id],
        "scheduled_on": "2026-12-03", "place": "鼓楼区中山路门店", "working_days": 5,
    })
    assert r.status_code == 201, r.text
    inspection = r.json()
    assert len(inspection["assignment_ids"]) == 3
    assert sorted(inspection["participant_department_ids"]) == sorted(
        world.dept(c).id for c in ("SCJG", "GAJ", "TYJ"))
    for code, a_id in zip(("SCJG", "GAJ", "TYJ"), inspection["assignment_ids"], strict=True):
        liaison = api.as_user(world.liaison(code))
        a = liaison.get(f"/api/v1/assignments/{a_id}").json()
        assert a["department_id"] == world.dept(code).id and a["inspection_id"] == inspection["id"]
        v = post(liaison, f"/api/v1/assignments/{a_id}/accept", version=a["version"]).json()["version"]
        assert post(liaison, f"/api/v1/assignments/{a_id}/feedback", version=v, json=FEEDBACK).status_code == 201
    for a_id in inspection["assignment_ids"]:
        assert coord.get(f"/api/v1/inspections/{inspection['id']}").json()["status"] == "planned"
        v = coord.get(f"/api/v1/assignments/{a_id}").json()["version"]
        assert post(coord, f"/api/v1/assignments/{a_id}/approve", version=v, json={}).status_code == 200
    assert coord.get(f"/api/v1/inspections/{inspection['id']}").json()["status"] == "done"


def test_inspection_closed_by_lead_with_reason_cancels_open_work(api, world, make_case):
    case = make_case()
    coord = api.as_user(world.coordinator)
    ins = coord.post("/api/v1/inspections", json={
        "case_id": case.id, "title": "夜间联合检查", "lead_department_id": world.dept("SCJG").id,
        "participant_department_ids": [world.dept("GAJ").id], "scheduled_on": "2026-12-04",
    }).json()
    r = post(api.as_user(world.liaison("GAJ")), f"/api/v1/inspections/{ins['id']}/close",
             version=ins["version"], json={"reason": "x"})
    assert r.status_code == 403
    r = post(api.as_user(world.head("SCJG")), f"/api/v1/inspections/{ins['id']}/close",
             version=ins["version"], json={"reason": "商户已停业，检查终止"})
    assert r.status_code == 200 and r.json()["status"] == "done"
    states = {coord.get(f"/api/v1/assignments/{i}").json()["state"] for i in ins["assignment_ids"]}
    assert states == {"cancelled"}


def test_deadline_template_by_source_and_override(api, world, make_case):
    coord = api.as_user(world.coordinator)
    case = make_case()  # 12315 hotline → 7 working days by default
    a = coord.post(f"/api/v1/cases/{case.id}/assignments", json={"department_id": world.dept("TYJ").id}).json()
    assert a["working_days"] == 7 and a["feedback_due_at"].startswith("2026-12-10T09:30")
    b = coord.post(f"/api/v1/cases/{case.id}/assignments",
                   json={"department_id": world.dept("TYJ").id, "working_days": 15, "parallel": True}).json()
    assert b["working_days"] == 15


def test_dispatch_shares_the_case_with_the_department(api, world, make_case):
    case = make_case()
    police = api.as_user(world.liaison("GAJ"))
    assert police.get(f"/api/v1/cases/{case.id}").status_code == 404
    api.as_user(world.coordinator).post(f"/api/v1/cases/{case.id}/assignments",
                                        json={"department_id": world.dept("GAJ").id})
    assert police.get(f"/api/v1/cases/{case.id}").status_code == 200


def test_comments_go_on_the_timeline_but_leaders_only_read(api, world, make_case):
    case = make_case(shared=("XFXH",))
    r = api.as_user(world.liaison("XFXH")).post(f"/api/v1/cases/{case.id}/comments",
                                                 json={"text": "已联系投诉人，约定周三调解"})
    assert r.status_code == 204
    assert api.as_user(world.leader).post(f"/api/v1/cases/{case.id}/comments",
                                          json={"text": "x"}).status_code == 403
    newest = api.as_user(world.leader).get(f"/api/v1/cases/{case.id}/timeline").json()["items"][0]
    assert newest["action"] == "commented" and newest["after"]["text"].startswith("已联系")
