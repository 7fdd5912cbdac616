"""催办 and 挂牌督办 by the coordinator: refused to anyone else, mailed at once and once,
shown on the item, counted in the weekly figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments.models import Assignment
from shared.assignments.schemas import FeedbackIn
from shared.clock import FrozenClock
from shared.outbox import relay
from shared.outbox.models import OutboxMessage
from shared.outbox.smtp import SmtpConfig
from shared.reports.figures import weekly_report
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from shared.supervision.models import AssignmentUrge
from tests.celery_harness import SmtpSink
from tests.factories import World
from tests.relay_kicks import counting_kicks
from tests.test_pages import browser, form_fields, has_form
from tests.test_workflow_api import post

FAST = relay.RelayPolicy(batch_size=20, backoff_seconds=30, backoff_max_seconds=1800, max_attempts=5,
                         stale_seconds=300, run_seconds=30, round_seconds=30)


def _version(client: Any, a_id: int) -> int:
    return int(client.get(f"/api/v1/assignments/{a_id}").json()["version"])


def _count(session: Session, stmt: Any) -> int:
    """Read in a transaction of its own: on SQLite an open one holds the lock the requests need.
    (Commit, not rollback, ends it: the session does not expire on commit, so the test's objects stay loaded.)"""
    session.commit()
    n = int(session.scalar(stmt) or 0)
    session.commit()
    return n


def _urges(session: Session) -> int:
    return _count(session, select(func.count()).select_from(AssignmentUrge))


def _mails(session: Session, *kinds: str) -> int:
    return _count(session, select(func.count()).select_from(OutboxMessage)
                  .where(OutboxMessage.kind.in_(kinds)))  # type: ignore[attr-defined]


def _deliver(engine: Engine, clock: FrozenClock) -> list[Any]:
    with SmtpSink() as sink:
        relay.run(engine, clock, smtp=SmtpConfig.from_url(sink.url), policy=FAST)
    return list(sink.messages)


def test_urge_twice_with_one_key_mails_each_person_once_through_the_relay(
    api: Any, world: World, make_case: Any, dispatch: Any, session: Session, engine: Engine, clock: FrozenClock,
) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    case_id = a.case_id
    coord = api.as_user(world.coordinator)
    version = _version(coord, a.id)
    headers = {"Idempotency-Key": "urge-1"}
    with counting_kicks() as kicks:
        first = post(coord, f"/api/v1/assignments/{a.id}/urge", version=version, headers=dict(headers),
                     json={"note": "群众反映强烈，请于本周内反馈"})
        again = post(coord, f"/api/v1/assignments/{a.id}/urge", version=version, headers=dict(headers),
                     json={"note": "群众反映强烈，请于本周内反馈"})
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json() and first.json()["kind"] == "urge"
    assert first.headers["ETag"] == f'"{version + 1}"'
    assert len(kicks) == 1  # the commit that queued the mail woke the relay, once
    assert _urges(session) == 1

    received = _deliver(engine, clock)
    to = sorted(m.rcpt_tos[0] for m in received)
    assert to == sorted([world.liaison("XFXH").email, world.head("XFXH").email])  # one each, nobody twice
    subject = received[0].subject
    assert "【催办】" in subject and "群众反映强烈" in received[0].body()

    # The timeline says who urged.
    listed = api.as_user(world.liaison("XFXH")).get(f"/api/v1/assignments/{a.id}/urges").json()
    assert [u["kind"] for u in listed] == ["urge"] and listed[0]["note"] == "群众反映强烈，请于本周内反馈"
    assert api.as_user(world.liaison("GAJ")).get(f"/api/v1/assignments/{a.id}/urges").status_code == 404
    events = coord.get(f"/api/v1/cases/{case_id}/timeline")
    assert events.status_code == 200 and '"action":"urged"' in events.text.replace(" ", "")


def test_a_second_urge_the_same_day_is_refused_and_the_next_day_allowed(
    api: Any, world: World, make_case: Any, dispatch: Any, session: Session, clock: FrozenClock,
) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    coord = api.as_user(world.coordinator)
    assert post(coord, f"/api/v1/assignments/{a.id}/urge", version=_version(coord, a.id)).status_code == 201
    r = post(coord, f"/api/v1/assignments/{a.id}/urge", version=_version(coord, a.id))
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_urged_today"
    assert "今天已催办" in r.json()["error"]["message"]
    assert _mails(session, "notice.urge") == 2  # the liaison and the head, from the first urge only
    clock.advance(timedelta(days=1))
    assert post(coord, f"/api/v1/assignments/{a.id}/urge", version=_version(coord, a.id)).status_code == 201
    assert _urges(session) == 2


def test_only_the_cases_coordinator_may_urge_or_supervise(
    api: Any, world: World, make_case: Any, dispatch: Any, session: Session,
) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    version = _version(api.as_user(world.coordinator), a.id)
    for path in ("urge", "supervise"):
        for user, expected in ((world.liaison("XFXH"), 403), (world.head("XFXH"), 403),
                               (world.user("coordinator2"), 403), (world.leader, 403),
                               (world.liaison("GAJ"), 404), (world.head("GAJ"), 404)):
            r = post(api.as_user(user), f"/api/v1/assignments/{a.id}/{path}", version=version)
            assert r.status_code == expected, (path, user.username, r.text)
    assert _urges(session) == 0 and _mails(session, "notice.urge", "notice.supervise") == 0


def test_closed_work_cannot_be_urged(api: Any, world: World, make_case: Any, dispatch: Any, session: Session,
                                     clock: FrozenClock) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    liaison = world.liaison("XFXH")
    assignments.accept(session, clock, liaison, a.id, a.version)
    session.commit()
    fresh = session.get(Assignment, a.id, populate_existing=True)
    assert fresh is not None
    assignments.submit_feedback(session, clock, liaison, a.id, fresh.version, FeedbackIn(narrative="已核查"))
    session.commit()
    coord = api.as_user(world.coordinator)
    assert post(coord, f"/api/v1/assignments/{a.id}/approve", version=_version(coord, a.id)).status_code == 200
    r = post(coord, f"/api/v1/assignments/{a.id}/supervise", version=_version(coord, a.id))
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"


def test_supervise_from_the_page_acts_once_and_shows_the_badge(
    app: Any, world: World, make_case: Any, dispatch: Any, session: Session,
) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    path = f"/assignments/{a.id}"
    coord = browser(app, world.coordinator)
    page = coord.get(path).text
    assert has_form(page, f"{path}/supervise") and "督办</span>" not in page
    fields = {**form_fields(page, f"{path}/supervise"), "note": "列入本月督办清单"}
    with counting_kicks():
        first = coord.post(f"{path}/supervise", data=fields)
        again = coord.post(f"{path}/supervise", data=fields)  # the same form twice: a double click
    assert first.status_code == 303 and again.status_code == 303
    assert _urges(session) == 1
    assert _mails(session, "notice.supervise") == 2
    shown = coord.get(path).text
    assert '<span class="badge badge-danger">督办</span>' in shown
    assert "列入本月督办清单" in shown and "挂牌督办（王协调" in shown
    queue = browser(app, world.liaison("XFXH")).get("/queue").text
    assert '<span class="badge badge-danger">督办</span>' in queue
    liaison_page = browser(app, world.liaison("XFXH")).get(path).text
    assert not has_form(liaison_page, f"{path}/supervise") and not has_form(liaison_page, f"{path}/urge")
    assert coord.post(f"{path}/urge", data={"version": "1"}).status_code == 403  # no token: refused


def test_weekly_figures_count_urges_and_supervision(
    world: World, make_case: Any, dispatch: Any, session: Session, clock: FrozenClock,
) -> None:
    from shared.supervision import service as supervision
    from shared.supervision.models import UrgeKind

    xfxh = dispatch(make_case(shared=("XFXH",)), "XFXH")
    tyj = dispatch(make_case(shared=("TYJ",)), "TYJ")
    for a, kind in ((xfxh, UrgeKind.URGE), (xfxh, UrgeKind.SUPERVISE), (tyj, UrgeKind.URGE)):
        fresh = session.get(Assignment, a.id, populate_existing=True)
        assert fresh is not None
        supervision.urge(session, clock, world.coordinator, a.id, fresh.version, kind)
        session.commit()
    clock.advance(timedelta(days=1))
    fresh = session.get(Assignment, tyj.id, populate_existing=True)
    assert fresh is not None
    supervision.urge(session, clock, world.coordinator, tyj.id, fresh.version, UrgeKind.URGE)
    session.commit()

    clock.advance(timedelta(hours=1))  # counting stops at now (exclusive) in the running week
    settings = Settings()
    week = IsoWeek(2026, 49)
    report = weekly_report(session, week, None, now=clock.now(), settings=settings)
    assert (report.figures.urged, report.figures.supervised) == (3, 1)
    mine = weekly_report(session, week, world.dept("XFXH").id, now=clock.now(), settings=settings)
    assert (mine.figures.urged, mine.figures.supervised) == (1, 1)
    last_week = weekly_report(session, IsoWeek(2026, 48), None, now=clock.now(), settings=settings)
    assert (last_week.figures.urged, last_week.figures.supervised) == (0, 0)
