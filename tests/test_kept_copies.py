"""Kept sign-ins and queues on real PostgreSQL: the database itself invalidates them (shared.invalidation).

Each test keeps something (a read, then a read that costs no statement), then
changes what it was read from the way an admin or another process would —
raw SQL on a connection of its own, not the app's engine, so nothing but the
database can tell the app — and reads again.  PostgreSQL delivers a
notification after the commit, asynchronously; `_delivered` waits until a
marker notified after the change has reached the app (notifications arrive
in commit order), so the change's own notification has been applied, and the
very next request must show it.  A write made through the app's own engine
counts at once, without waiting (last test).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from shared import invalidation
from shared.users import service as users
from tests.factories import PASSWORD
from tests.test_queue_cache import QUEUE, expected, read, shown, statements


@pytest.fixture
def db_url(postgres_database: str) -> str:  # PostgreSQL only: SQLite has no NOTIFY and keeps nothing
    return postgres_database


@pytest.fixture
def outside(engine) -> Iterator[psycopg.Connection]:  # type: ignore[no-untyped-def]
    """A connection of its own, as psql would be: the app's engine never sees what it does."""
    with psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        yield conn


def _watch(app) -> invalidation.Watch:  # type: ignore[no-untyped-def]
    watch = invalidation.watch(app.state.engine)
    assert watch is not None and watch.wait_listening(10)
    return watch


def _delivered(watch: invalidation.Watch, outside: psycopg.Connection, timeout: float = 10) -> None:
    """Everything committed on OUTSIDE so far has reached the app (a marker notified after it has)."""
    marker = f"test:{uuid.uuid4().hex}"
    outside.execute("SELECT pg_notify(%s, %s)", (invalidation.CHANNEL, marker))
    deadline = time.monotonic() + timeout
    while watch.last_notification != marker:
        assert time.monotonic() < deadline, "the marker notification never arrived"
        watch.confirm()  # what a request does first
        time.sleep(0.001)


def _kept(client: TestClient, engine, **params) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Read twice; the second read must be served from kept copies: no statement at all."""
    read(client, **params)
    with statements(engine) as seen:
        body = read(client, **params)
    assert seen == [], seen
    return body


def test_a_kept_request_runs_no_statement_and_a_raw_sql_update_shows_in_the_next_read(
        api, app, world, make_case, dispatch, engine, clock, outside):
    watch = _watch(app)
    xfxh = world.dept("XFXH").id
    case = make_case(title="某健身房预付卡退费投诉", shared=("XFXH",))
    a, b = dispatch(case, "XFXH", days=10), dispatch(case, "XFXH", days=12)
    liaison = api.as_user(world.liaison("XFXH"))
    assert _kept(liaison, engine)["counts"]["to_accept"] == 2

    outside.execute("UPDATE assignment SET state = 'accepted', accepted_at = %s WHERE id = %s", (clock.now(), a.id))
    _delivered(watch, outside)
    q = read(liaison)
    assert q["counts"]["to_accept"] == 1 and q["counts"]["in_progress"] == 1
    assert shown(q) == expected(engine, xfxh, clock.now())

    outside.execute("UPDATE assignment SET feedback_due_at = %s WHERE id = %s",
                    (clock.now() - timedelta(hours=1), b.id))
    outside.execute('UPDATE "case" SET title = %s WHERE id = %s', ("某健身房集中退费投诉", case.id))
    _delivered(watch, outside)
    q = read(liaison)
    assert q["counts"]["overdue"] == 1 and q["items"][0]["id"] == b.id and q["items"][0]["feedback_overdue"]
    assert {i["case_title"] for i in q["items"]} == {"某健身房集中退费投诉"}
    assert shown(_kept(liaison, engine)) == expected(engine, xfxh, clock.now())

    outside.execute("UPDATE assignment SET department_id = %s WHERE id = %s", (world.dept("GAJ").id, a.id))
    _delivered(watch, outside)
    assert [i["id"] for i in read(liaison)["items"]] == [b.id]


def test_a_raw_sql_revocation_deactivation_or_new_role_counts_at_the_next_request(
        api, app, world, make_case, dispatch, engine, outside):
    watch = _watch(app)
    xfxh, gaj = world.dept("XFXH").id, world.dept("GAJ").id
    dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison, head, other = (api.as_user(world.liaison("XFXH")), api.as_user(world.head("XFXH")),
                            api.as_user(world.liaison("GAJ")))
    for client in (liaison, head, other):
        _kept(client, engine)

    token = liaison.headers["Authorization"].removeprefix("Bearer ")
    outside.execute("UPDATE auth_token SET revoked = true WHERE token_hash = %s", (users.token_hash(token),))
    outside.execute('UPDATE "user" SET active = false WHERE id = %s', (world.head("XFXH").id,))
    _delivered(watch, outside)
    assert liaison.get(QUEUE).status_code == 401
    assert head.get(QUEUE).status_code == 401

    # A liaison made coordinator by hand may read another department's queue at once.
    assert other.get(QUEUE, params={"department_id": xfxh}).status_code == 403
    outside.execute('UPDATE "user" SET role = \'coordinator\' WHERE id = %s', (world.liaison("GAJ").id,))
    _delivered(watch, outside)
    assert read(other, department_id=xfxh)["department_id"] == xfxh
    outside.execute('UPDATE "user" SET role = \'liaison\' WHERE id = %s', (world.liaison("GAJ").id,))
    _delivered(watch, outside)
    assert other.get(QUEUE, params={"department_id": xfxh}).status_code == 403
    assert read(other)["department_id"] == gaj


def test_a_password_changed_through_the_api_ends_the_other_sessions_at_once(api, app, world, engine, monkeypatch):
    watch = _watch(app)
    liaison = world.liaison("XFXH")
    first, second = api.as_user(liaison), TestClient(app, raise_server_exceptions=False)
    with Session(engine) as s:
        second.headers["Authorization"] = "Bearer " + users.issue_token(s, app.state.clock, app.state.settings,
                                                                          liaison)
        s.commit()
    _kept(first, engine)
    _kept(second, engine)
    # As if PostgreSQL had not delivered the notification yet: this process made the change, so it knows.
    monkeypatch.setattr(watch, "_notified", lambda payload: None)
    r = first.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "新的密码-2026"})
    assert r.status_code == 204, r.text
    assert second.get(QUEUE).status_code == 401
    assert first.get(QUEUE).status_code == 200


def test_while_the_listener_is_away_nothing_kept_is_served(api, app, world, make_case, dispatch, engine, clock,
                                                            outside, monkeypatch):
    watch = _watch(app)
    xfxh = world.dept("XFXH").id
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison = api.as_user(world.liaison("XFXH"))
    assert _kept(liaison, engine)["counts"]["to_accept"] == 1
    pid = watch.backend_pid
    assert pid is not None

    # The listener's connection is cut and cannot come back yet (the database is away for it), and the
    # assignment changes meanwhile: its notification reaches nobody.
    dsn = watch.dsn
    monkeypatch.setattr(watch, "dsn", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert outside.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)
    outside.execute("UPDATE assignment SET state = 'accepted', accepted_at = %s WHERE id = %s", (clock.now(), a.id))
    for _ in range(2):
        with statements(engine) as seen:
            q = read(liaison)
        assert q["counts"]["in_progress"] == 1 and shown(q) == expected(engine, xfxh, clock.now())
        assert seen, "an answer kept from before the listener was cut was served"
    assert not watch.listening

    # Back again (a new connection), copies are kept again.
    monkeypatch.setattr(watch, "dsn", dsn)
    assert watch.wait_listening(15) and watch.backend_pid != pid
    assert shown(_kept(liaison, engine)) == expected(engine, xfxh, clock.now())


def test_a_write_through_the_apps_own_engine_counts_without_waiting_for_the_notification(
        api, app, world, make_case, dispatch, engine, clock, monkeypatch):
    watch = _watch(app)
    xfxh = world.dept("XFXH").id
    a = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison = api.as_user(world.liaison("XFXH"))
    _kept(liaison, engine)
    monkeypatch.setattr(watch, "_notified", lambda payload: None)  # not delivered yet
    with engine.begin() as conn:  # a script's raw SQL through the process's own engine
        conn.execute(text("UPDATE assignment SET state = 'accepted', accepted_at = :now WHERE id = :id"),
                     {"now": clock.now(), "id": a.id})
    q = read(liaison)
    assert q["counts"]["in_progress"] == 1 and shown(q) == expected(engine, xfxh, clock.now())


def test_the_queue_pages_kept_list_shows_a_supervision_added_or_removed_in_raw_sql(
        app, world, make_case, dispatch, engine, clock, outside):
    """The /queue page keeps its rendered list and which items are under 督办 as long as the rows."""
    from tests.test_pages import _queue_row, browser

    watch = _watch(app)
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=10)
    client = browser(app, world.liaison("XFXH"))
    assert "督办" not in _queue_row(client.get("/queue").text, a.id)
    assert "督办" not in _queue_row(client.get("/queue").text, a.id)  # kept now

    now = clock.now()
    outside.execute(
        "INSERT INTO assignment_urge (assignment_id, case_id, department_id, kind, at, local_date, by, note) "
        "VALUES (%s, %s, %s, 'supervise', %s, %s, %s, '')",
        (a.id, case.id, a.department_id, now, now.date(), world.coordinator.id))
    _delivered(watch, outside)
    assert "督办" in _queue_row(client.get("/queue").text, a.id)

    outside.execute("DELETE FROM assignment_urge WHERE assignment_id = %s", (a.id,))
    _delivered(watch, outside)
    assert "督办" not in _queue_row(client.get("/queue").text, a.id)


def test_departments_and_campaigns_renamed_or_added_in_raw_sql_show_at_the_next_page(
        app, world, make_case, engine, clock, outside):
    """Pages keep the departments and campaigns they name and offer (no statement reads them again),
    and a rename, a deactivation or a new campaign made in psql shows at the next request."""
    from tests.test_pages import browser

    watch = _watch(app)
    make_case(lead="XFXH")
    client = browser(app, world.coordinator)
    xfxh, tyj = world.dept("XFXH"), world.dept("TYJ")
    first = client.get("/cases").text
    assert xfxh.name in first and f'<option value="{tyj.id}">' in first
    with statements(engine) as seen:
        assert client.get("/cases").status_code == 200
    assert not [s for s in seen if "FROM department" in s or "FROM campaign" in s], seen

    outside.execute("UPDATE department SET name = '市消费者权益保护委员会' WHERE id = %s", (xfxh.id,))
    outside.execute("UPDATE department SET active = false WHERE id = %s", (tyj.id,))
    outside.execute("INSERT INTO campaign (name, description, starts_on, ends_on, created_at, version) "
                    "VALUES ('冬季保供稳价专项行动', '', %s, %s, %s, 1)",
                    (clock.now().date(), clock.now().date() + timedelta(days=30), clock.now()))
    _delivered(watch, outside)
    after = client.get("/cases").text
    assert "市消费者权益保护委员会" in after and xfxh.name not in after
    assert f'<option value="{tyj.id}">' not in after  # no longer offered as a lead department
    assert "冬季保供稳价专项行动" in after


def _titles(client: TestClient) -> list[str]:
    r = client.get("/api/v1/cases")
    assert r.status_code == 200, r.text
    return [c["title"] for c in r.json()["items"]]


def test_the_first_page_of_the_case_list_is_kept_and_follows_every_raw_sql_change(
        api, app, world, make_case, engine, outside):
    """A department's first page of /api/v1/cases (and everyone's) is served without a statement
    until a case or a share its readers see changes, whoever writes it."""
    watch = _watch(app)
    own = make_case(lead="XFXH", title="本会受理的投诉")
    other = make_case(lead="SCJG", title="市监局的投诉")
    liaison = api.as_user(world.liaison("XFXH"))
    coordinator = api.as_user(world.coordinator)
    assert _titles(liaison) == ["本会受理的投诉"]
    assert _titles(coordinator) == ["市监局的投诉", "本会受理的投诉"]
    for client in (liaison, coordinator):
        with statements(engine) as seen:
            _titles(client)
        assert seen == [], seen

    outside.execute('UPDATE "case" SET title = %s WHERE id = %s', ("本会受理的投诉（已改）", own.id))
    _delivered(watch, outside)
    assert _titles(liaison) == ["本会受理的投诉（已改）"]
    assert _titles(coordinator) == ["市监局的投诉", "本会受理的投诉（已改）"]

    # Shared in psql: the department now sees the other case; unshared: no longer.
    outside.execute("INSERT INTO case_share (case_id, department_id, shared_at, case_created_at) "
                    "VALUES (%s, %s, now(), %s)", (other.id, world.dept("XFXH").id, other.created_at))
    _delivered(watch, outside)
    assert _titles(liaison) == ["市监局的投诉", "本会受理的投诉（已改）"]
    outside.execute("DELETE FROM case_share WHERE case_id = %s", (other.id,))
    _delivered(watch, outside)
    assert _titles(liaison) == ["本会受理的投诉（已改）"]

    # The lead moved away: gone from the old department's list, on the new one's.
    outside.execute('UPDATE "case" SET lead_department_id = %s WHERE id = %s', (world.dept("GAJ").id, own.id))
    _delivered(watch, outside)
    assert _titles(liaison) == []
    assert _titles(api.as_user(world.liaison("GAJ"))) == ["本会受理的投诉（已改）"]


def test_a_first_page_read_by_a_transaction_that_wrote_is_not_kept(app, world, make_case, engine, clock):
    """What a transaction reads after its own writes may be rolled back: it is never kept."""
    from shared.cases import service as cases
    from shared.cases.queries import CaseFilter, list_cases
    from tests.factories import case_input

    _watch(app)
    make_case(lead="XFXH", title="已提交的投诉")
    with Session(app.state.engine, expire_on_commit=False) as s:
        cases.create_case(s, clock, world.coordinator, case_input(world, lead="XFXH", title="将被回滚的投诉"))
        rows, _ = list_cases(s, world.coordinator, CaseFilter())
        assert "将被回滚的投诉" in [c.title for c in rows]
        s.rollback()
    with Session(app.state.engine, expire_on_commit=False) as s:
        assert [c.title for c in list_cases(s, world.coordinator, CaseFilter())[0]] == ["已提交的投诉"]


def test_names_on_a_case_page_are_kept_and_a_rename_in_raw_sql_shows_at_the_next_page(
        app, world, make_case, dispatch, engine, outside):
    """The case page names the people of its timeline without a statement once it has read them,
    and shows a name changed in psql at the next request; a name read in a transaction that wrote
    is not kept."""
    from shared.users.names import user_names
    from tests.test_pages import browser

    watch = _watch(app)
    case = make_case(lead="XFXH")
    dispatch(case, "XFXH")
    coordinator = world.coordinator
    client = browser(app, world.liaison("XFXH"))
    assert coordinator.name in client.get(f"/cases/{case.id}").text
    with statements(engine) as seen:
        assert coordinator.name in client.get(f"/cases/{case.id}").text
    assert not [s for s in seen if 'FROM "user"' in s and '"user".name' in s], seen

    outside.execute('UPDATE "user" SET name = %s WHERE id = %s', ("赵明远", coordinator.id))
    _delivered(watch, outside)
    after = client.get(f"/cases/{case.id}").text
    assert "赵明远" in after and coordinator.name not in after

    liaison = world.liaison("XFXH")
    with Session(app.state.engine, expire_on_commit=False) as s:
        s.execute(text('UPDATE "user" SET name = :n WHERE id = :i'), {"n": "将被回滚的名字", "i": liaison.id})
        assert user_names(s, {liaison.id}) == {liaison.id: "将被回滚的名字"}
        s.rollback()
    with Session(app.state.engine, expire_on_commit=False) as s:
        assert user_names(s, {liaison.id, None, 999_999}) == {liaison.id: liaison.name}


def test_a_queue_read_by_a_transaction_that_wrote_is_not_kept(app, world, make_case, dispatch, engine, clock):
    """A queue read after the transaction's own change to one of its cases shows that change to that
    transaction only: rolled back, the next read shows the case as it is."""
    from shared.assignments import queue

    _watch(app)
    case = make_case(lead="XFXH", title="已提交的标题")
    dispatch(case, "XFXH")
    liaison = world.liaison("XFXH")

    def titles(s: Session) -> list[str]:
        return [item.case_title for item in queue.queue(s, liaison, clock.now()).items]

    with Session(app.state.engine, expire_on_commit=False) as s:
        s.execute(text('UPDATE "case" SET title = :t WHERE id = :i'), {"t": "将被回滚的标题", "i": case.id})
        assert titles(s) == ["将被回滚的标题"]
        s.rollback()
    with Session(app.state.engine, expire_on_commit=False) as s:
        assert titles(s) == ["已提交的标题"]


def test_a_page_signed_in_by_a_kept_token_is_signed_out_by_a_raw_sql_revocation(app, world, engine, outside):
    from tests.test_pages import browser

    watch = _watch(app)
    client = browser(app, world.liaison("XFXH"))
    assert client.get("/settings").status_code == 200
    with statements(engine) as seen:
        assert client.get("/settings").status_code == 200
    assert not [s for s in seen if "auth_token" in s], seen  # the sign-in was kept: no token read
    token = client.cookies.get("gongzhi_session")
    outside.execute("UPDATE auth_token SET revoked = true WHERE token_hash = %s", (users.token_hash(token),))
    _delivered(watch, outside)
    r = client.get("/settings")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
