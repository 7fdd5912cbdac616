"""回访 over the API: recorded after approved feedback on a complaint, refused otherwise, and
重办 — reopen the case and send the approved work back — in one step, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from services.cli import app as cli_app
from shared.assignments import service as assignments
from shared.assignments.schemas import FeedbackIn
from shared.cases import service as cases
from shared.clock import FrozenClock
from shared.events.models import Event
from shared.outbox.models import OutboxMessage
from shared.users.models import NotifyMode
from tests.factories import World

SATISFIED = {"reached": True, "attempts": 1, "satisfaction": "satisfied", "resolved": True, "note": "已退费，满意"}
UNHAPPY = {"reached": True, "attempts": 2, "satisfaction": "unsatisfied", "resolved": False,
           "note": "门店仍未退费"}


def _approved(session: Session, clock: FrozenClock, world: World, make_case, dispatch, *,  # type: ignore[no-untyped-def]
              close: bool = True, **case_fields):  # type: ignore[no-untyped-def]
    """A complaint case led by 市场监管局 whose 体育局 assignment is approved (and the case closed)."""
    case = make_case(shared=("TYJ",), **case_fields)
    a = dispatch(case, "TYJ")
    liaison = world.liaison("TYJ")
    a = assignments.accept(session, clock, liaison, a.id, a.version)
    assignments.submit_feedback(session, clock, liaison, a.id, a.version,
                                FeedbackIn(narrative="已督促门店退费 12 笔。", complaints_mediated=12))
    a = assignments.approve(session, clock, world.coordinator, a.id, a.version, "同意")
    session.commit()
    if close:
        case = cases.close_case(session, clock, world.coordinator, case.id, session.get(type(case), case.id).version,
                                "已处理完毕")
        session.commit()
    return case, a


def _post(client, url, version=None, **kwargs):  # type: ignore[no-untyped-def]
    headers = kwargs.pop("headers", {})
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.post(url, headers=headers, **kwargs)


def _events(session: Session, case_id: int) -> list[tuple[str, str]]:
    rows = [(e.object_type, e.action) for e in session.scalars(
        select(Event).where(Event.case_id == case_id).order_by(Event.id))]  # type: ignore[arg-type]
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    return rows


def test_the_lead_department_and_the_coordinator_record_callbacks(  # type: ignore[no-untyped-def]
    api, session: Session, clock: FrozenClock, world: World, make_case, dispatch, cli
) -> None:
    case, a = _approved(session, clock, world, make_case, dispatch)
    lead = api.as_user(world.liaison("SCJG"))
    r = lead.post(f"/api/v1/cases/{case.id}/callbacks", json=SATISFIED)
    assert r.status_code == 201, r.text
    first = r.json()
    assert r.headers["ETag"] == '"1"'
    assert (first["assignment_id"], first["department_id"]) == (a.id, world.dept("TYJ").id)
    assert (first["reached"], first["satisfaction"], first["resolved"], first["reworkable"]) == (
        True, "satisfied", True, False)
    assert first["made_by"] == world.liaison("SCJG").id
    assert datetime.fromisoformat(first["made_at"]) == clock.now()

    # Not reached after three tries: no answers; the same Idempotency-Key twice records it once.
    coord = api.as_user(world.coordinator)
    body = {"reached": False, "attempts": 3, "note": "三次拨打无人接听"}
    key = {"Idempotency-Key": "callback-case-1-try-2"}
    r1 = coord.post(f"/api/v1/cases/{case.id}/callbacks", json=body, headers=key)
    r2 = coord.post(f"/api/v1/cases/{case.id}/callbacks", json=body, headers=key)
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    assert r1.json()["satisfaction"] is None and r1.json()["resolved"] is None

    listed = api.as_user(world.leader).get(f"/api/v1/cases/{case.id}/callbacks")
    assert listed.status_code == 200
    assert [(c["id"], c["reached"], c["attempts"]) for c in listed.json()] == [
        (first["id"], True, 1), (r1.json()["id"], False, 3)]
    assert api.as_user(world.liaison("TYJ")).get(f"/api/v1/callbacks/{first['id']}").json()["note"] == "已退费，满意"

    timeline = coord.get(f"/api/v1/cases/{case.id}/timeline").json()["items"]
    recorded = [e for e in timeline if (e["object_type"], e["action"]) == ("callback", "recorded")]
    assert len(recorded) == 2
    assert {e["actor_id"] for e in recorded} == {world.liaison("SCJG").id, world.coordinator.id}
    assert any(e["after"]["satisfaction"] == "satisfied" and e["after"]["resolved"] for e in recorded)

    out = cli.invoke(cli_app, ["callback", "list", "--case", str(case.id)])
    assert out.exit_code == 0, out.output
    assert "satisfied resolved=yes" in out.output and "not_reached tries=3" in out.output


def test_a_callback_is_refused_before_approval_outside_complaints_and_reach_by_others_and_when_incoherent(  # type: ignore[no-untyped-def]
    api, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    coord = api.as_user(world.coordinator)
    pending = make_case(shared=("TYJ",))
    dispatch(pending, "TYJ")
    r = coord.post(f"/api/v1/cases/{pending.id}/callbacks", json=SATISFIED)
    assert r.status_code == 409 and r.json()["error"]["code"] == "callback_feedback_not_approved"
    assert "审核通过" in r.json()["error"]["message"]
    r = api.as_user(world.coordinator, lang="en").post(f"/api/v1/cases/{pending.id}/callbacks", json=SATISFIED)
    assert r.json()["error"]["message"].startswith("No feedback on this case has been approved")

    inspection, _ = _approved(session, clock, world, make_case, dispatch, source="inspection")
    r = coord.post(f"/api/v1/cases/{inspection.id}/callbacks", json=SATISFIED)
    assert r.status_code == 409 and r.json()["error"]["code"] == "callback_not_a_complaint"

    case, a = _approved(session, clock, world, make_case, dispatch, source="online_platform")
    url = f"/api/v1/cases/{case.id}/callbacks"
    assert api.as_user(world.liaison("SWJ")).post(url, json=SATISFIED).status_code == 404  # not shared with it
    assert api.as_user(world.liaison("SWJ")).get(url).status_code == 404
    for other in (world.leader, world.admin, world.liaison("TYJ"), world.head("TYJ"), world.user("coordinator2")):
        r = api.as_user(other).post(url, json=SATISFIED)
        assert r.status_code == 403, (other.username, r.text)

    for body, field in [
        ({"reached": True, "resolved": True}, "satisfaction"),
        ({"reached": True, "satisfaction": "unsatisfied"}, "resolved"),
        ({"reached": False, "satisfaction": "satisfied"}, "satisfaction"),
        ({"reached": False, "resolved": False}, "resolved"),
        ({**SATISFIED, "attempts": 0}, "attempts"),
        ({**SATISFIED, "satisfaction": "thrilled"}, "satisfaction"),
        ({**SATISFIED, "assignment_id": 999_999}, "assignment_id"),
    ]:
        r = coord.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert [f["field"] for f in r.json()["error"]["fields"]] == [field], (body, r.text)
    r = api.as_user(world.coordinator, lang="en").post(url, json={"reached": False, "resolved": False})
    assert r.json()["error"]["fields"][0]["reason"] == "Not reached: leave satisfaction and resolved empty"
    assert coord.get(url).json() == []  # nothing was recorded
    assert ("callback", "recorded") not in _events(session, case.id)  # type: ignore[arg-type]


def test_unsatisfied_and_unresolved_reopens_the_case_and_sends_the_work_back_in_one_step(  # type: ignore[no-untyped-def]
    api, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    world.liaison("TYJ").notify_mode = NotifyMode.IMMEDIATE
    session.add(world.liaison("TYJ"))
    session.commit()
    case, a = _approved(session, clock, world, make_case, dispatch)
    coord = api.as_user(world.coordinator)
    cb = coord.post(f"/api/v1/cases/{case.id}/callbacks", json=UNHAPPY).json()
    assert cb["reworkable"] is True
    happy = coord.post(f"/api/v1/cases/{case.id}/callbacks", json=SATISFIED).json()

    # Thursday 2026-12-10 10:00 Shanghai: the old due date has passed.
    clock.set(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    url = f"/api/v1/callbacks/{cb['id']}/rework"
    body = {"reason": "投诉人反映仍未退费，请重新核查", "working_days": 3}
    assert api.as_user(world.liaison("SCJG")).post(url, json=body, headers={"If-Match": '"1"'}).status_code == 403
    assert _post(coord, f"/api/v1/callbacks/{happy['id']}/rework", version=1, json=body).json()["error"]["code"] \
        == "callback_not_reworkable"
    assert coord.post(url, json=body).status_code == 428
    assert _post(coord, url, version=7, json=body).status_code == 412
    mails_before = session.scalar(select(func.count()).select_from(OutboxMessage))
    session.commit()

    r = _post(coord, url, version=cb["version"], json=body)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["reworkable"] is False and done["rework_assignment_id"] == a.id and done["version"] == 2
    assert r.headers["ETag"] == '"2"'

    assert coord.get(f"/api/v1/cases/{case.id}").json()["status"] == "open"
    reworked = api.as_user(world.liaison("TYJ")).get(f"/api/v1/assignments/{a.id}").json()
    assert reworked["state"] == "accepted"
    # Three working days from Thursday 10:00: Tuesday 2026-12-15 17:30 Shanghai.
    assert reworked["feedback_due_at"].startswith("2026-12-15T09:30:00")
    assert "submit" in reworked["allowed_actions"]

    trail = _events(session, case.id)  # type: ignore[arg-type]
    tail = trail[trail.index(("callback", "recorded")):]
    assert tail[-3:] == [("case", "reopened"), ("assignment", "reworked"), ("callback", "reworked")]
    session.expire_all()
    mails = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))[mails_before:]  # type: ignore[arg-type]
    assert [m.to_address for m in mails] == [world.liaison("TYJ").email]
    assert "投诉人反映仍未退费，请重新核查" in mails[0].body_text
    session.commit()

    again = _post(coord, url, version=2, json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "callback_already_reworked"


def test_a_rework_that_fails_half_way_leaves_nothing_behind(  # type: ignore[no-untyped-def]
    api, session: Session, clock: FrozenClock, world: World, make_case, dispatch
) -> None:
    case, a = _approved(session, clock, world, make_case, dispatch, close=False)
    cancelled = dispatch(case, "SWJ")
    assignments.cancel(session, clock, world.coordinator, cancelled.id, cancelled.version, "重复派发")
    session.commit()
    case = cases.close_case(session, clock, world.coordinator, case.id, session.get(type(case), case.id).version, None)
    session.commit()
    coord = api.as_user(world.coordinator)
    cb = coord.post(f"/api/v1/cases/{case.id}/callbacks", json=UNHAPPY).json()
    case_before = coord.get(f"/api/v1/cases/{case.id}").json()
    events_before = _events(session, case.id)  # type: ignore[arg-type]

    # The case is reopened first; the cancelled assignment then cannot be reworked: all rolled back.
    r = _post(coord, f"/api/v1/callbacks/{cb['id']}/rework", version=cb["version"],
              json={"reason": "重新核查", "assignment_id": cancelled.id})
    assert r.status_code == 409 and r.json()["error"]["code"] == "follow_up_not_allowed"
    assert "已撤销" in r.json()["error"]["message"]
    case_after = coord.get(f"/api/v1/cases/{case.id}").json()
    assert (case_after["status"], case_after["version"]) == ("closed", case_before["version"])
    assert coord.get(f"/api/v1/callbacks/{cb['id']}").json() == cb
    assert coord.get(f"/api/v1/assignments/{a.id}").json()["state"] == "done"
    session.expire_all()
    assert _events(session, case.id) == events_before  # type: ignore[arg-type]
