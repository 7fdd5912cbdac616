"""GET /api/v1/queue as a client sees it: who may read which queue, and never an answer older than the database.

The queue is authenticated and scoped like every other route.  Each process
keeps departments' rows, which the database itself invalidates (PostgreSQL:
notifications the app listens for; SQLite: a stamp checked on every read), so
these tests read a queue (so rows are kept),
change something — through the API, a worker, or raw SQL — and read again:
the answer must be what the database says now, worked out here independently
of the endpoint's SQL.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlmodel import Session

from services.api.app import create_app
from services.api.deps import get_current_user
from shared.assignments import service as assignments
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.status import ACTIVE_STATES
from shared.calendar.service import working_calendar
from shared.db import make_engine

QUEUE = "/api/v1/queue"
SHANGHAI = "+08:00"


def local(text: str) -> datetime:
    """A Shanghai wall-clock time, as the people using the queue read it."""
    return datetime.fromisoformat(text + SHANGHAI).astimezone(UTC)


def post(client, url, version=None, **kwargs):  # type: ignore[no-untyped-def]
    headers = kwargs.pop("headers", {})
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    r = client.post(url, headers=headers, **kwargs)
    assert r.status_code in (200, 201), r.text
    return r.json()


def read(client, **params) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.get(QUEUE, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def expected(engine, department_id: int, now: datetime, limit: int = 50, due_soon_days: int = 2) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The queue worked out in Python from the department's rows, not with the endpoint's SQL."""
    with Session(engine) as s:
        rows = list(s.scalars(select(Assignment).where(Assignment.department_id == department_id)))  # type: ignore[arg-type]
        soon = working_calendar(s).add_working_days(now, due_soon_days).at
    active = sorted((a for a in rows if a.state in ACTIVE_STATES), key=lambda a: (a.feedback_due_at, a.id))
    counts = {
        "to_accept": sum(a.state == AssignmentState.DISPATCHED for a in rows),
        "in_progress": sum(a.state == AssignmentState.ACCEPTED for a in rows),
        "due_soon": sum(now <= a.feedback_due_at <= soon for a in active),
        "overdue": sum(a.feedback_due_at < now for a in active),
        "awaiting_signoff": sum(a.state == AssignmentState.AWAITING_SIGNOFF for a in rows),
        "awaiting_review": sum(a.state == AssignmentState.SUBMITTED for a in rows),
    }
    items = [(a.id, a.state.value, a.feedback_due_at, a.version, now > a.feedback_due_at,
              a.state == AssignmentState.DISPATCHED and now > a.acceptance_due_at) for a in active[:limit]]
    return {"department_id": department_id, "counts": counts, "items": items}


def shown(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a response `expected` describes."""
    items = [(i["id"], i["state"], datetime.fromisoformat(i["feedback_due_at"]), i["version"],
              i["feedback_overdue"], i["acceptance_overdue"]) for i in body["items"]]
    return {"department_id": body["department_id"], "counts": body["counts"], "items": items}


@contextmanager
def statements(engine) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def before(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is not a read
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


# ---------------------------------------------------------------- every change shows at once


def test_every_kind_of_change_shows_in_a_queue_read_just_before(api, world, make_case, dispatch, clock, engine):
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    liaison, head, coord = (api.as_user(world.liaison("XFXH")), api.as_user(world.head("XFXH")),
                            api.as_user(world.coordinator))
    other = api.as_user(world.liaison("GAJ"))
    case = make_case(title="某健身房预付卡退费投诉", shared=("XFXH",))

    def check(client=liaison, dept=xfxh):  # type: ignore[no-untyped-def]
        body = read(client)
        assert shown(body) == expected(engine, dept, clock.now())
        return body

    assert check()["counts"]["to_accept"] == 0
    check(other, gaj)

    a = post(coord, f"/api/v1/cases/{case.id}/assignments",
             json={"department_id": xfxh, "working_days": 10, "instructions": "核查预付卡合同"})
    q = check()
    assert q["counts"]["to_accept"] == 1 and [i["id"] for i in q["items"]] == [a["id"]]

    a = post(liaison, f"/api/v1/assignments/{a['id']}/accept", version=a["version"])
    q = check()
    assert q["counts"]["to_accept"] == 0 and q["counts"]["in_progress"] == 1
    assert q["items"][0]["state"] == "accepted"

    ext = post(liaison, f"/api/v1/assignments/{a['id']}/extensions", version=a["version"],
               json={"extra_working_days": 3, "reason": "需等待司法鉴定结果"})
    a = liaison.get(f"/api/v1/assignments/{a['id']}").json()
    check()
    post(head, f"/api/v1/assignments/{a['id']}/extensions/{ext['id']}/approve", version=a["version"],
         json={"comment": "同意"})
    q = check()
    assert q["items"][0]["extended"] is True
    assert q["items"][0]["feedback_due_at"].startswith("2026-12-18T09:30")  # moved by 3 working days

    a = liaison.get(f"/api/v1/assignments/{a['id']}").json()
    post(liaison, f"/api/v1/assignments/{a['id']}/feedback", version=a["version"], json={"narrative": "已调解"})
    q = check()
    assert q["counts"]["awaiting_review"] == 1 and q["items"] == []

    a = coord.get(f"/api/v1/assignments/{a['id']}").json()
    a = post(coord, f"/api/v1/assignments/{a['id']}/send-back", version=a["version"],
             json={"reason": "请补充现场照片"})
    q = check()
    assert q["counts"]["awaiting_review"] == 0 and q["counts"]["in_progress"] == 1

    post(liaison, f"/api/v1/assignments/{a['id']}/feedback", version=a["version"], json={"narrative": "已补充"})
    a = coord.get(f"/api/v1/assignments/{a['id']}").json()
    check()
    post(coord, f"/api/v1/assignments/{a['id']}/approve", version=a["version"], json={"comment": "同意办结"})
    q = check()
    assert q["counts"] == {"to_accept": 0, "in_progress": 0, "due_soon": 0, "overdue": 0,
                           "awaiting_signoff": 0, "awaiting_review": 0}

    # Returned, then dispatched again to another department: both queues change.
    b = dispatch(case, "XFXH", days=5)
    check()
    check(other, gaj)
    b_json = post(liaison, f"/api/v1/assignments/{b.id}/return", version=b.version,
                  json={"reason": "not_our_jurisdiction"})
    assert check()["items"] == []
    post(coord, f"/api/v1/assignments/{b.id}/redispatch", version=b_json["version"], json={"department_id": gaj})
    assert check()["items"] == []
    assert [i["id"] for i in check(other, gaj)["items"]] == [b.id]

    c = dispatch(case, "XFXH", days=5)
    assert [i["case_title"] for i in check()["items"]] == ["某健身房预付卡退费投诉"]
    live = coord.get(f"/api/v1/cases/{case.id}").json()
    r = coord.patch(f"/api/v1/cases/{case.id}", json={"title": "某健身连锁预付卡集中投诉"},
                    headers={"If-Match": f'"{live["version"]}"'})
    assert r.status_code == 200, r.text
    assert [i["case_title"] for i in check()["items"]] == ["某健身连锁预付卡集中投诉"]
    assert [i["case_title"] for i in check(other, gaj)["items"]] == ["某健身连锁预付卡集中投诉"]

    post(coord, f"/api/v1/assignments/{c.id}/cancel", version=c.version, json={"reason": "投诉人撤诉"})
    assert check()["items"] == []


def test_a_change_made_elsewhere_shows_in_every_process(api, world, make_case, dispatch, clock, engine,
                                                       settings, db_url):
    """Two API processes (two apps, two engines) and a worker writing through the service layer."""
    from fastapi.testclient import TestClient

    other_engine = make_engine(db_url)
    try:
        here = api.as_user(world.liaison("XFXH"))
        there = TestClient(create_app(settings, engine=other_engine, clock=clock),
                           headers={"Authorization": here.headers["Authorization"]})
        a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=10)
        assert read(there)["counts"]["to_accept"] == 1
        assert read(here)["counts"]["to_accept"] == 1
        a_json = post(here, f"/api/v1/assignments/{a.id}/accept", version=a.version)  # through the first process
        assert read(there)["counts"]["in_progress"] == 1
        # A worker (no HTTP at all) cancels it; both processes see it at once.
        with Session(engine, expire_on_commit=False) as worker:
            assignments.cancel(worker, clock, world.coordinator, a.id, a_json["version"], "重复投诉")
            worker.commit()
        assert read(there)["items"] == [] and read(here)["items"] == []
    finally:
        other_engine.dispose()


def test_changes_made_in_raw_sql_show_in_the_next_read(api, world, make_case, dispatch, clock, engine):
    """An admin's psql session, a data fix or a migration: no use case, no ORM, and still no stale queue."""
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    liaison, other = api.as_user(world.liaison("XFXH")), api.as_user(world.liaison("GAJ"))
    case = make_case(title="某培训机构退费投诉", shared=("XFXH", "GAJ"))
    a = dispatch(case, "XFXH", days=10)
    b = dispatch(case, "XFXH", days=12)
    assert read(liaison)["counts"]["to_accept"] == 2 and read(other)["items"] == []  # rows now kept

    def raw(sql: str, **params: Any) -> None:
        with engine.begin() as conn:
            conn.execute(text(sql), params)

    raw("UPDATE assignment SET state = 'accepted', accepted_at = :now WHERE id = :id", now=clock.now(), id=a.id)
    q = read(liaison)
    assert q["counts"]["to_accept"] == 1 and q["counts"]["in_progress"] == 1
    assert shown(q) == expected(engine, xfxh, clock.now())

    raw("UPDATE assignment SET feedback_due_at = :due WHERE id = :id", due=clock.now() - timedelta(hours=1), id=b.id)
    q = read(liaison)
    assert q["counts"]["overdue"] == 1 and q["items"][0]["id"] == b.id and q["items"][0]["feedback_overdue"]

    raw('UPDATE "case" SET title = :title WHERE id = :id', title="某培训机构集中退费投诉", id=case.id)
    assert {i["case_title"] for i in read(liaison)["items"]} == {"某培训机构集中退费投诉"}

    raw("UPDATE assignment SET department_id = :gaj WHERE id = :id", gaj=gaj, id=b.id)  # moved by hand
    assert [i["id"] for i in read(liaison)["items"]] == [a.id]
    assert [i["id"] for i in read(other)["items"]] == [b.id]

    raw("UPDATE assignment SET state = 'cancelled', cancel_reason = '重复' WHERE id = :id", id=b.id)
    assert read(other)["items"] == [] and shown(read(other)) == expected(engine, gaj, clock.now())


def test_the_due_soon_window_is_the_reminder_setting(world, make_case, dispatch, clock, engine, settings):
    from fastapi.testclient import TestClient

    from tests.conftest import Api

    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=3)  # Tuesday: due Friday 17:30
    xfxh = world.dept("XFXH").id
    for days, due_soon in ((2, 0), (3, 1)):
        app = create_app(settings.model_copy(update={"reminder_due_soon_working_days": days}), engine=engine,
                         clock=clock)
        client: TestClient = Api(app).as_user(world.liaison("XFXH"))
        q = read(client)
        assert q["counts"]["due_soon"] == due_soon, days
        assert shown(q) == expected(engine, xfxh, clock.now(), due_soon_days=days)
        assert [i["id"] for i in q["items"]] == [a.id]


def test_moving_an_open_assignment_changes_both_departments_queues(api, world, make_case, dispatch, engine):
    a = dispatch(make_case(shared=("XFXH", "GAJ")), "XFXH", days=5)
    xfxh_client, gaj_client = api.as_user(world.liaison("XFXH")), api.as_user(world.liaison("GAJ"))
    assert [i["id"] for i in read(xfxh_client)["items"]] == [a.id] and read(gaj_client)["items"] == []
    with Session(engine) as s:  # a data fix, as an admin script would do it
        row = s.get(Assignment, a.id)
        assert row is not None
        row.department_id = world.dept("GAJ").id
        s.commit()
    assert read(xfxh_client)["items"] == []
    assert [i["id"] for i in read(gaj_client)["items"]] == [a.id]
    assert [i["id"] for i in read(gaj_client)["items"]] == [a.id]


def test_a_calendar_reload_recomputes_due_soon_without_any_assignment_change(api, world, make_case, dispatch,
                                                                            clock, session, engine):
    from shared.calendar.service import load_official_year

    liaison = api.as_user(world.liaison("XFXH"))
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)  # due Tuesday 12-08 17:30
    clock.set(local("2026-12-03T10:00:00"))  # Thursday: "due soon" ends on Monday 17:30
    assert read(liaison)["counts"]["due_soon"] == 0
    # Friday 12-04 becomes a holiday: two working days from Thursday now end on Tuesday.
    load_official_year(session, clock, world.admin, 2026, [date(2026, 12, 4)], [], "国务院办公厅通知")
    session.commit()
    q = read(liaison)
    assert shown(q) == expected(engine, world.dept("XFXH").id, clock.now())
    assert q["counts"]["due_soon"] == 1 and [i["id"] for i in q["items"]] == [a.id]


# ---------------------------------------------------------------- time alone


def test_time_passing_a_due_time_or_local_midnight_changes_the_queue_without_any_write(
    api, world, make_case, dispatch, clock, engine
):
    xfxh = world.dept("XFXH").id
    liaison = api.as_user(world.liaison("XFXH"))
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=2)  # Tuesday: accept by Wednesday 17:30, feed back by Thursday 17:30
    b = dispatch(case, "XFXH", days=5)  # due next Tuesday 12-08 17:30

    def at(moment: str) -> dict[str, Any]:
        clock.set(local(moment))
        body = read(liaison)
        assert shown(body) == expected(engine, xfxh, clock.now())
        assert read(liaison) == body  # and the copy it keeps says the same
        return body

    def item(body: dict[str, Any], a_id: int) -> dict[str, Any]:
        return next(i for i in body["items"] if i["id"] == a_id)

    q = at("2026-12-01T10:00:00")
    assert q["counts"]["due_soon"] == 1 and q["counts"]["overdue"] == 0
    assert item(q, a.id)["acceptance_overdue"] is False
    assert item(at("2026-12-02T17:30:00"), a.id)["acceptance_overdue"] is False  # at the due time: not yet late
    assert item(at("2026-12-02T17:30:01"), a.id)["acceptance_overdue"] is True
    q = at("2026-12-03T17:30:00")
    assert q["counts"]["overdue"] == 0 and q["counts"]["due_soon"] == 1
    q = at("2026-12-03T17:30:01")
    assert q["counts"]["overdue"] == 1 and item(q, a.id)["feedback_overdue"] is True
    assert at("2026-12-03T17:29:59")["counts"]["overdue"] == 0  # set back a little: not late yet
    assert at("2026-12-03T17:30:01")["counts"]["overdue"] == 1
    # b enters "due soon" (two working days by default) at local midnight before Friday (Friday + 2 = Tuesday).
    assert at("2026-12-03T23:59:59")["counts"]["due_soon"] == 0
    assert at("2026-12-04T00:00:00")["counts"]["due_soon"] == 1
    # A clock set back (tests, or a corrected server clock) gets the earlier answer again.
    q = at("2026-12-01T10:00:00")
    assert q["counts"] == {"to_accept": 2, "in_progress": 0, "due_soon": 1, "overdue": 0,
                           "awaiting_signoff": 0, "awaiting_review": 0}
    assert b.id in [i["id"] for i in q["items"]]


# ---------------------------------------------------------------- departments and readers


def test_departments_and_page_sizes_keep_their_own_copies(api, world, make_case, dispatch, clock, engine):
    case = make_case(shared=("XFXH", "GAJ"))
    for _ in range(3):
        dispatch(case, "XFXH", days=5)
    dispatch(case, "GAJ", days=5)
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    coord = api.as_user(world.coordinator)
    for _ in range(2):
        assert read(api.as_user(world.liaison("XFXH")))["department_id"] == xfxh
        assert read(api.as_user(world.liaison("GAJ")))["department_id"] == gaj
        assert shown(read(coord, department_id=xfxh)) == expected(engine, xfxh, clock.now())
        assert shown(read(coord, department_id=gaj)) == expected(engine, gaj, clock.now())
        assert read(coord)["department_id"] == world.dept("SCJG").id  # a coordinator's own by default
        small = read(coord, department_id=xfxh, limit=1)
        assert len(small["items"]) == 1 and small["counts"]["to_accept"] == 3
        assert len(read(coord, department_id=xfxh)["items"]) == 3


def test_no_one_reads_another_departments_queue(api, world, make_case, dispatch, clock,
                                                                   engine):
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    case = make_case(shared=("XFXH", "GAJ"))
    x = dispatch(case, "XFXH", days=5)
    g = dispatch(case, "GAJ", days=6)
    mine = read(api.as_user(world.liaison("XFXH")))  # XFXH's copy now exists in this process
    assert mine["department_id"] == xfxh and [i["id"] for i in mine["items"]] == [x.id]
    for outsider in (world.liaison("GAJ"), world.head("GAJ")):
        client = api.as_user(outsider)
        for _ in range(2):
            assert client.get(QUEUE, params={"department_id": xfxh}).status_code == 403
        own = read(client, department_id=gaj)
        assert own["department_id"] == gaj and [i["id"] for i in own["items"]] == [g.id]
        assert read(client) == own
    for reader in (world.coordinator, world.leader, world.admin):
        assert shown(read(api.as_user(reader), department_id=xfxh)) == shown(mine)  # actions differ by reader
    anonymous = api.anonymous()
    assert anonymous.get(QUEUE).status_code == 401
    assert anonymous.get(QUEUE, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert anonymous.get(QUEUE, params={"department_id": xfxh},
                         headers={"Authorization": "Bearer "}).status_code == 401


# ---------------------------------------------------------------- one authentication path, one scope rule


def test_the_queue_signs_in_through_the_same_dependency_as_every_route(api, world, make_case, dispatch, app):
    """Whoever get_current_user says is asking is who the queue answers: there is no second path."""
    dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    xfxh = world.dept("XFXH").id
    liaison = api.as_user(world.liaison("GAJ"))
    assert liaison.get(QUEUE, params={"department_id": xfxh}).status_code == 403
    app.dependency_overrides[get_current_user] = lambda: world.coordinator
    try:
        assert read(liaison, department_id=xfxh)["counts"]["to_accept"] == 1
    finally:
        app.dependency_overrides.clear()


def test_each_reader_is_offered_their_own_actions_from_the_same_kept_rows(api, world, make_case, dispatch):
    """The kept rows are the department's; the items are built for whoever asks, on every request."""
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    xfxh = world.dept("XFXH").id
    offered = {}
    for name, user in (("liaison", world.liaison("XFXH")), ("coordinator", world.coordinator),
                       ("leader", world.leader), ("liaison again", world.liaison("XFXH"))):
        body = read(api.as_user(user), department_id=xfxh)
        assert [i["id"] for i in body["items"]] == [a.id]
        offered[name] = body["items"][0]["allowed_actions"]
    assert offered["liaison"] == offered["liaison again"] == ["accept", "return"]
    assert offered["coordinator"] == ["cancel", "supervise", "urge"] and offered["leader"] == []


def test_a_kept_answer_follows_a_change_to_the_reader_made_in_raw_sql(api, world, make_case, dispatch, engine):
    """Answers are kept per set of offered actions; the reader is read afresh by the next request's sign-in."""
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    liaison = world.liaison("XFXH")
    client = api.as_user(liaison)
    for _ in range(2):  # the second answer is the kept one
        assert read(client)["items"][0]["allowed_actions"] == ["accept", "return"]

    def change(**values: Any) -> None:
        with engine.begin() as conn:
            for name, value in values.items():
                conn.execute(text(f'UPDATE "user" SET {name} = :v WHERE id = :id'), {"v": value, "id": liaison.id})

    change(role="leader")
    body = read(client, department_id=xfxh)
    assert [i["id"] for i in body["items"]] == [a.id] and body["items"][0]["allowed_actions"] == []
    change(role="liaison")
    assert read(client)["items"][0]["allowed_actions"] == ["accept", "return"]
    change(department_id=gaj)
    assert read(client)["department_id"] == gaj
    assert client.get(QUEUE, params={"department_id": xfxh}).status_code == 403
    change(department_id=xfxh)
    assert read(client)["items"][0]["allowed_actions"] == ["accept", "return"]
    change(active=False)
    assert client.get(QUEUE).status_code == 401


def test_a_refused_token_gets_the_same_401_on_the_queue_as_elsewhere(api, world, clock, session, settings):
    from shared.users import service as users

    def both(client) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
        queue, other = client.get(QUEUE), client.get("/api/v1/assignments")
        return (queue.status_code, queue.json(), queue.headers.get("www-authenticate")), \
               (other.status_code, other.json(), other.headers.get("www-authenticate"))

    head = api.as_user(world.head("XFXH"))
    users.revoke_token(session, head.headers["Authorization"].removeprefix("Bearer "))
    session.commit()
    queue, other = both(head)
    assert queue == other and queue[0] == 401

    coord = api.as_user(world.coordinator)
    assert coord.get(QUEUE).status_code == 200
    clock.advance(hours=settings.token_ttl_hours + 1)
    queue, other = both(coord)
    assert queue == other and queue[0] == 401
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Bearer "}):
        anonymous = api.anonymous()
        assert anonymous.get(QUEUE, headers=headers).json() == anonymous.get("/api/v1/assignments",
                                                                              headers=headers).json()


def test_revocation_deactivation_expiry_and_a_move_take_effect_on_the_next_read(api, world, make_case, dispatch,
                                                                                clock, session, settings):
    from shared.users import service as users

    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison = world.liaison("XFXH")
    client = api.as_user(liaison)
    assert read(client)["department_id"] == xfxh

    admin = api.as_user(world.admin)
    r = admin.patch(f"/api/v1/users/{liaison.id}", json={"department_id": gaj},
                    headers={"If-Match": f'"{liaison.version}"'})
    assert r.status_code == 200, r.text
    assert read(client)["department_id"] == gaj  # the same token now opens the new department's queue
    assert client.get(QUEUE, params={"department_id": xfxh}).status_code == 403

    r = admin.patch(f"/api/v1/users/{liaison.id}", json={"active": False},
                    headers={"If-Match": f'"{r.json()["version"]}"'})
    assert r.status_code == 200, r.text
    assert client.get(QUEUE).status_code == 401

    head = api.as_user(world.head("XFXH"))
    assert read(head)["department_id"] == xfxh
    users.revoke_token(session, head.headers["Authorization"].removeprefix("Bearer "))
    session.commit()
    assert head.get(QUEUE).status_code == 401

    coord = api.as_user(world.coordinator)
    assert read(coord, department_id=xfxh)["department_id"] == xfxh
    clock.advance(hours=settings.token_ttl_hours + 1)
    assert coord.get(QUEUE, params={"department_id": xfxh}).status_code == 401


# ---------------------------------------------------------------- HTTP: validators, compression, cost


def test_an_unchanged_queue_answers_not_modified_whatever_the_encoding(api, world, make_case, dispatch, engine):
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=5)
    for i in range(12):
        dispatch(case, "XFXH", days=6 + i)
    liaison = api.as_user(world.liaison("XFXH"))
    first = liaison.get(QUEUE, headers={"Accept-Encoding": "identity"})
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')  # one tag for the plain and the gzip-encoded representation
    for encoding in ("identity", "gzip"):
        again = liaison.get(QUEUE, headers={"If-None-Match": tag, "Accept-Encoding": encoding})
        assert again.status_code == 304 and again.headers["ETag"] == tag and again.content == b""
    assert liaison.get(QUEUE, headers={"If-None-Match": tag.removeprefix("W/")}).status_code == 304
    assert api.as_user(world.liaison("GAJ")).get(QUEUE, headers={"If-None-Match": tag}).status_code == 200
    post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version)
    changed = liaison.get(QUEUE, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["counts"]["in_progress"] == 1
    with engine.begin() as conn:  # and a change made in SQL
        conn.execute(text("UPDATE assignment SET state = 'dispatched' WHERE id = :id"), {"id": a.id})
    assert liaison.get(QUEUE, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 200


def test_json_is_sent_gzip_to_clients_that_accept_it_and_plain_to_others(api, world, make_case, dispatch):
    case = make_case(shared=("XFXH",))
    for i in range(12):
        dispatch(case, "XFXH", days=3 + i)
    liaison = api.as_user(world.liaison("XFXH"))
    plain = liaison.get(QUEUE, headers={"Accept-Encoding": "identity"})
    packed = liaison.stream("GET", QUEUE, headers={"Accept-Encoding": "gzip, deflate, br"})
    with packed as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(raw) == plain.content and len(plain.json()["items"]) == 12
    assert len(raw) * 3 < len(plain.content)
    # Every JSON answer large enough, not the queue alone; small ones are not worth it.
    listing = liaison.get("/api/v1/assignments", headers={"Accept-Encoding": "gzip"})
    assert listing.headers["content-encoding"] == "gzip"
    small = liaison.get(QUEUE, params={"limit": 1}, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_statements_per_request_are_the_same_for_a_small_and_a_large_queue(api, world, make_case, dispatch,
                                                                          app):
    case = make_case(shared=("XFXH", "GAJ"))
    dispatch(case, "GAJ", days=5)
    for i in range(30):
        dispatch(case, "XFXH", days=3 + i % 7)
    counts = {}
    for code in ("GAJ", "XFXH"):
        client = api.as_user(world.liaison(code))
        read(client)  # token issued, calendar loaded, rows kept
        with statements(app.state.engine) as seen:
            read(client)
        counts[code] = len(seen)
    # SQLite: the token's user (get_current_user) and the department's stamp; the rows are the ones kept.
    # PostgreSQL: the token's user and the answer are both kept, and the database would say if they changed.
    kept = 0 if app.state.engine.dialect.name == "postgresql" else 2
    assert counts["GAJ"] == counts["XFXH"] == kept, counts


@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"),
                                               ("department_id=0", "department_id"),
                                               ("department_id=abc", "department_id"),
                                               ("department_id=99999999999", "department_id")])
def test_bad_queue_parameters_are_refused_naming_the_field(api, world, query, field):
    zh = api.as_user(world.coordinator).get(f"{QUEUE}?{query}")
    en = api.as_user(world.coordinator, lang="en").get(f"{QUEUE}?{query}")
    assert zh.status_code == en.status_code == 422
    assert [f["field"] for f in zh.json()["error"]["fields"]] == [field]
    assert zh.json()["error"]["message"] != en.json()["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.json()["error"]["fields"][0]["reason"])
    assert en.json()["error"]["fields"][0]["reason"].isascii()


def test_queue_parameters_work_and_are_documented(api, world, make_case, dispatch):
    case = make_case(shared=("XFXH",))
    for i in range(7):
        dispatch(case, "XFXH", days=3 + i)
    xfxh = world.dept("XFXH").id
    coordinator = api.as_user(world.coordinator)
    body = coordinator.get(f"{QUEUE}?department_id={xfxh}&limit=5&unknown=1").json()
    assert body["department_id"] == xfxh and len(body["items"]) == 5 and body["counts"]["to_accept"] == 7
    assert len(coordinator.get(f"{QUEUE}?limit=1&limit=6&department_id={xfxh}").json()["items"]) == 6
    # An empty value is refused as on every other endpoint's query (FastAPI validates "" too).
    for query in ("department_id=", "limit="):
        assert coordinator.get(f"{QUEUE}?{query}").status_code == 422
        assert coordinator.get(f"/api/v1/assignments?{query}").status_code == 422
    liaison = api.as_user(world.liaison("GAJ"))
    assert liaison.get(f"{QUEUE}?department_id={xfxh}").status_code == 403
    operation = api.anonymous().get("/api/v1/openapi.json").json()["paths"]["/api/v1/queue"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["limit"]["in"] == "query" and params["limit"]["schema"]["maximum"] == 200
    assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["default"] == 50
    assert params["department_id"]["schema"]["anyOf"][0]["minimum"] == 1
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/QueueOut")


