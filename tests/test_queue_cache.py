"""The department queue kept in memory: never older than the database, never another department's.

Each API process keeps computed queues and checks them, on every request,
against the department's queue stamp.  These tests read a queue (so a copy is
kept), change something, and read again: the answer must be what the database
says now, computed here independently of the endpoint's SQL.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update
from sqlmodel import Session

from services.api.app import create_app
from shared.assignments import queue_cache
from shared.assignments import service as assignments
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.status import ACTIVE_STATES
from shared.calendar.service import working_calendar
from shared.db import make_engine
from shared.departments.models import QueueStamp

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


def expected(engine, department_id: int, now: datetime, limit: int = 50) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The queue worked out in Python from the department's rows, not with the endpoint's SQL."""
    with Session(engine) as s:
        rows = list(s.scalars(select(Assignment).where(Assignment.department_id == department_id)))  # type: ignore[arg-type]
        soon = working_calendar(s).add_working_days(now, 2).at
    active = sorted((a for a in rows if a.state in ACTIVE_STATES), key=lambda a: (a.feedback_due_at, a.id))
    counts = {
        "to_accept": sum(a.state == AssignmentState.DISPATCHED for a in rows),
        "in_progress": sum(a.state == AssignmentState.ACCEPTED for a in rows),
        "due_soon": sum(now <= a.feedback_due_at <= soon for a in active),
        "overdue": sum(a.feedback_due_at < now for a in active),
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
def statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """SQL statements the endpoint runs: on the app's engine, the queue reader's pool and its stamp reads."""
    engine = app.state.engine
    reader = queue_cache.reader_for(engine)
    engines = [e for e in (engine, reader.engine) if e is not None]
    seen: list[str] = []

    def before(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is not a read
            seen.append(statement)

    def stamp_read(statement: str, _params: object, _seconds: float) -> None:  # psycopg directly, no events
        seen.append(statement)

    for e in engines:
        event.listen(e, "before_cursor_execute", before)
    reader.statement_listeners.append(stamp_read)
    try:
        yield seen
    finally:
        reader.statement_listeners.remove(stamp_read)
        for e in engines:
            event.remove(e, "before_cursor_execute", before)


def stamp(engine, department_id: int) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = s.get(QueueStamp, department_id)
        return row.generation if row is not None else 0


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
    assert q["counts"] == {"to_accept": 0, "in_progress": 0, "due_soon": 0, "overdue": 0, "awaiting_review": 0}

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


def test_a_bulk_update_through_the_session_changes_every_queue(api, world, make_case, dispatch, clock, session,
                                                              engine):
    case = make_case(shared=("XFXH", "GAJ"))
    a = dispatch(case, "XFXH", days=10)
    dispatch(case, "GAJ", days=10)
    liaison = api.as_user(world.liaison("XFXH"))
    read(liaison)
    before = stamp(engine, world.dept("GAJ").id)
    later = a.feedback_due_at + timedelta(days=3)
    session.execute(update(Assignment).where(Assignment.id == a.id).values(feedback_due_at=later))  # type: ignore[arg-type]
    session.commit()
    assert datetime.fromisoformat(read(liaison)["items"][0]["feedback_due_at"]) == later
    assert stamp(engine, world.dept("GAJ").id) == before + 1  # no rows to look at: everyone's copy is stale


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


def test_a_rolled_back_change_leaves_the_stamp_and_a_committed_one_bumps_only_its_departments(
    world, make_case, dispatch, clock, session, engine
):
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=10)
    xfxh, gaj, swj = (world.dept(c).id for c in ("XFXH", "GAJ", "SWJ"))
    before = {d: stamp(engine, d) for d in (xfxh, gaj, swj)}
    assignments.accept(session, clock, world.liaison("XFXH"), a.id, a.version)
    session.rollback()
    assert {d: stamp(engine, d) for d in (xfxh, gaj, swj)} == before
    assignments.accept(session, clock, world.liaison("XFXH"), a.id, a.version)
    session.commit()
    assert {d: stamp(engine, d) for d in (xfxh, gaj, swj)} == {**before, xfxh: before[xfxh] + 1}


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
    generation = stamp(engine, xfxh)

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
    # b enters "due within two working days" at local midnight before Friday (Friday + 2 = Tuesday).
    assert at("2026-12-03T23:59:59")["counts"]["due_soon"] == 0
    assert at("2026-12-04T00:00:00")["counts"]["due_soon"] == 1
    # A clock set back (tests, or a corrected server clock) gets the earlier answer again.
    q = at("2026-12-01T10:00:00")
    assert q["counts"] == {"to_accept": 2, "in_progress": 0, "due_soon": 1, "overdue": 0, "awaiting_review": 0}
    assert stamp(engine, xfxh) == generation  # nothing was written all along
    assert b.id in [i["id"] for i in q["items"]]


# ---------------------------------------------------------------- copies per department, never across


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


def test_no_one_reads_another_departments_queue_through_a_kept_copy(api, world, make_case, dispatch, clock,
                                                                   engine):
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    case = make_case(shared=("XFXH", "GAJ"))
    x = dispatch(case, "XFXH", days=5)
    g = dispatch(case, "GAJ", days=6)
    assert stamp(engine, xfxh) == stamp(engine, gaj)  # same stamp: only the department tells the copies apart
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
        assert read(api.as_user(reader), department_id=xfxh) == mine
    anonymous = api.anonymous()
    assert anonymous.get(QUEUE).status_code == 401
    assert anonymous.get(QUEUE, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert anonymous.get(QUEUE, params={"department_id": xfxh},
                         headers={"Authorization": "Bearer "}).status_code == 401


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


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_requests_read_together_each_get_their_own_answer(api, world, make_case, dispatch, app, session):
    """On PostgreSQL the requests an event loop has in hand share one stamp read: it must not mix them up."""
    from shared.users import service as users

    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    case = make_case(shared=("XFXH", "GAJ"))
    dispatch(case, "XFXH", days=5)
    dispatch(case, "XFXH", days=6)
    dispatch(case, "GAJ", days=7)
    token = {name: api.as_user(u).headers["Authorization"] for name, u in (
        ("xfxh", world.liaison("XFXH")), ("gaj", world.liaison("GAJ")), ("coord", world.coordinator),
        ("revoked", world.head("GAJ")))}
    users.revoke_token(session, token["revoked"].removeprefix("Bearer "))
    session.commit()
    asks = [("xfxh", None, 200, xfxh), ("gaj", xfxh, 403, None), ("coord", gaj, 200, gaj),
            ("gaj", None, 200, gaj), ("revoked", None, 401, None), ("coord", xfxh, 200, xfxh),
            ("xfxh", xfxh, 200, xfxh), ("gaj", gaj, 200, gaj), ("coord", None, 200, world.dept("SCJG").id)] * 3

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(
                client.get(QUEUE, headers={"Authorization": token[who]},
                           params={} if dept is None else {"department_id": dept})
                for who, dept, _status, _answer in asks))

    with statements(app) as seen:
        responses = asyncio.run(all_at_once())
    for (who, dept, status, answer), r in zip(asks, responses, strict=True):
        assert r.status_code == status, (who, dept, r.text)
        if status == 200:
            assert r.json()["department_id"] == answer
            assert len(r.json()["items"]) == {xfxh: 2, gaj: 1}.get(answer, 0)
    assert len(seen) < len(asks)  # they were read together, not one statement each


# ---------------------------------------------------------------- cost


def test_statements_per_request_are_the_same_for_a_small_and_a_large_queue(api, world, make_case, dispatch,
                                                                          clock, app):
    case = make_case(shared=("XFXH", "GAJ"))
    dispatch(case, "GAJ", days=5)
    for i in range(30):
        dispatch(case, "XFXH", days=3 + i % 7)
    reader = queue_cache.reader_for(app.state.engine)
    counts = {}
    for code in ("GAJ", "XFXH"):
        client = api.as_user(world.liaison(code))
        read(client)  # token issued, calendar loaded, copy kept
        with statements(app) as hit:
            read(client)
        reader.cache.clear()
        with statements(app) as miss:
            read(client)
        counts[code] = (len(hit), len(miss))
    assert counts["GAJ"] == counts["XFXH"] == (1, 2), counts


def test_an_unchanged_queue_answers_not_modified(api, world, make_case, dispatch):
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison = api.as_user(world.liaison("XFXH"))
    first = liaison.get(QUEUE)
    tag = first.headers["ETag"]
    again = liaison.get(QUEUE, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["ETag"] == tag and again.content == b""
    assert api.as_user(world.liaison("GAJ")).get(QUEUE, headers={"If-None-Match": tag}).status_code == 200
    post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version)
    changed = liaison.get(QUEUE, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["counts"]["in_progress"] == 1


def test_the_queue_is_sent_gzip_to_clients_that_accept_it_and_plain_to_others(api, world, make_case, dispatch):
    case = make_case(shared=("XFXH",))
    for i in range(12):
        dispatch(case, "XFXH", days=3 + i)
    liaison = api.as_user(world.liaison("XFXH"))
    plain = liaison.get(QUEUE, headers={"Accept-Encoding": "identity"})
    packed = liaison.get(QUEUE, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.json() == plain.json() and len(plain.json()["items"]) == 12  # httpx decoded the gzip
    assert int(packed.headers["content-length"]) < int(plain.headers["content-length"]) / 3
    assert plain.headers["vary"] == packed.headers["vary"] == "Accept-Encoding"
    assert plain.headers["etag"] != packed.headers["etag"]  # two representations, two strong tags
    for header, encoded in (("gzip;q=0, identity", False), ("*", True), ("br", False), ("GZIP;q=0.5", True),
                            ("*;q=0, gzip", True), ("gzip;q=0, *", False)):
        r = liaison.get(QUEUE, headers={"Accept-Encoding": header})
        assert (r.headers.get("content-encoding") == "gzip") is encoded, header
        assert r.json() == plain.json()
    # Either tag names this state of the queue: a client that switched encodings still gets 304.
    for tag in (plain.headers["etag"], packed.headers["etag"]):
        again = liaison.get(QUEUE, headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == packed.headers["etag"] and "content-encoding" not in again.headers


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


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_stamp_connection_the_server_dropped_is_replaced_without_an_error(api, world, make_case, dispatch,
                                                                            engine):
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison = api.as_user(world.liaison("XFXH"))
    assert read(liaison)["counts"]["to_accept"] == 1  # a stamp connection is now kept
    stamps = queue_cache.reader_for(engine).stamps
    assert stamps is not None  # a stamp read that hangs must not hold the event loop for long
    assert stamps.run(lambda conn: conn.execute("SHOW statement_timeout").fetchone()[0]) == "5s"
    with engine.connect() as conn:
        killed = conn.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %(name)s AND datname = current_database()",
            {"name": queue_cache.STAMP_CONNECTION_NAME}).scalar()
    assert killed >= 1
    post(liaison, f"/api/v1/assignments/{a.id}/accept", version=a.version)
    assert read(liaison)["counts"] == {**read(liaison)["counts"], "to_accept": 0, "in_progress": 1}


def test_kept_copies_stay_within_their_memory_bound() -> None:
    from shared.assignments.queue_cache import Answer, QueueCache, _Entry

    now = datetime(2026, 12, 1, 2, tzinfo=UTC)

    def entry(dept: int) -> _Entry:
        return _Entry(Answer.of(dept, bytes(range(100))), 1, now, now, None)

    size = entry(1).answer.size  # both encodings are kept, and both count
    assert size > 200
    cache = QueueCache(max_bytes=2 * size + size // 2)

    cache.put(1, 50, entry(1))
    cache.put(2, 50, entry(2))
    assert cache.get(1, 50) is not None  # 1 is now the most recently used
    cache.put(3, 50, entry(3))
    assert cache.get(2, 50) is None and cache.get(1, 50) is not None and cache.get(3, 50) is not None
    assert len(cache) == 2


# ---------------------------------------------------------------- writers do not deadlock on the stamps


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_commits_bumping_the_same_departments_do_not_deadlock(world, make_case, dispatch, clock,
                                                                         engine):
    case = make_case(shared=("XFXH", "GAJ"))
    rows = {order: [(dispatch(case, "XFXH", days=5).id, dispatch(case, "GAJ", days=5).id) for _ in range(6)]
            for order in (0, 1)}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(order: int) -> None:
        try:
            for xfxh_id, gaj_id in rows[order]:
                with Session(engine, expire_on_commit=False) as s:
                    # Each thread its own rows, the two departments in opposite orders.
                    for a_id in (xfxh_id, gaj_id) if order == 0 else (gaj_id, xfxh_id):
                        row = s.get(Assignment, a_id)
                        assert row is not None
                        row.instructions = f"补充要求 {order}"
                        s.flush()
                    barrier.wait(timeout=10)  # both commit (and bump both stamps) at once
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_a_department_without_a_stamp_row_reads_as_zero_until_its_first_change(world, make_case, dispatch,
                                                                                   engine):
    xfxh = world.dept("XFXH").id
    assert stamp(engine, xfxh) == 0
    dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    assert stamp(engine, xfxh) == 1


def test_changes_made_in_a_savepoint_bump_the_stamp_however_the_savepoint_ends(world, make_case, dispatch,
                                                                               clock, engine):
    xfxh = world.dept("XFXH").id
    first, second = (dispatch(make_case(shared=("XFXH",)), "XFXH", days=5) for _ in range(2))
    before = stamp(engine, xfxh)
    with Session(engine, expire_on_commit=False) as s:
        with s.begin_nested():  # released, then the outer transaction commits
            assignments.accept(s, clock, world.liaison("XFXH"), first.id, first.version)
        s.commit()
    assert stamp(engine, xfxh) == before + 1
    with Session(engine, expire_on_commit=False) as s:
        s.begin_nested()
        assignments.accept(s, clock, world.liaison("XFXH"), second.id, second.version)
        s.commit()  # the outer commit, with the savepoint still open
    assert stamp(engine, xfxh) == before + 2
