"""Delivering the weekly summary: when (Monday, or the first working day), to whom, with which files, once.

The outbox carries attachments (the Word and Excel files); a week's report is
queued once per (week, scope, recipient) whatever runs it — two beats, a task
retried or killed, a rerun of the command — down to a real Celery worker on
Redis delivering to a real SMTP server.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from shared.assignments.models import Assignment
from shared.calendar.service import package_calendar
from shared.clock import FrozenClock
from shared.db import make_engine, session_scope
from shared.errors import Forbidden, Invalid
from shared.events.models import Event
from shared.outbox import relay
from shared.outbox.models import OutboxAttachment, OutboxMessage, OutboxState
from shared.outbox.service import enqueue
from shared.outbox.smtp import MailAttachment, Outgoing, SmtpConfig, message_id, render_message
from shared.reports import archive, delivery
from shared.reports.archive_models import WeeklyReportDelivery, WeeklyReportRecord
from shared.reports.schedule import due_weeks, send_day, send_moment
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from shared.users.models import Role, User
from tests.celery_harness import CeleryWorker, SmtpSink, redis_test_url, wait_until
from tests.conftest import _truncate_all
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
EIGHT = time(8, 0)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# ------------------------------------------------------------------ when it goes out


def test_an_ordinary_monday_at_eight_sends_last_week():
    calendar = package_calendar()
    w48 = IsoWeek.parse("2026-W48")  # 11-23 … 11-29
    assert send_day(w48, calendar).isoformat() == "2026-11-30"
    assert send_moment(w48, calendar, EIGHT) == local(2026, 11, 30, 8, 0).astimezone(UTC)
    # Until 08:00 only the week before is (still) due: it went out a week ago.
    assert due_weeks(local(2026, 11, 30, 7, 59), calendar, EIGHT) == [w48.previous()]
    assert due_weeks(local(2026, 11, 30, 8, 0), calendar, EIGHT) == [w48]
    # The rest of that week (a worker that was down catches up) …
    assert due_weeks(local(2026, 12, 4, 8, 0), calendar, EIGHT) == [w48]
    # … and the next Monday only the week after.
    assert due_weeks(local(2026, 12, 7, 8, 0), calendar, EIGHT) == [IsoWeek.parse("2026-W49")]


def test_a_holiday_monday_waits_for_the_first_working_day():
    """2026-10-05 is in the National Day holiday (10-01 … 10-07): W40's report goes out Thursday 10-08."""
    calendar = package_calendar()
    assert not calendar.is_working_day(local(2026, 10, 5).date())
    w40 = IsoWeek.parse("2026-W40")
    assert send_day(w40, calendar).isoformat() == "2026-10-08"
    for not_yet in (local(2026, 10, 5, 8, 0), local(2026, 10, 6, 8, 0), local(2026, 10, 7, 8, 0),
                    local(2026, 10, 8, 7, 59)):
        assert w40 not in due_weeks(not_yet, calendar, EIGHT), not_yet
    assert due_weeks(local(2026, 10, 8, 8, 0), calendar, EIGHT) == [w40]
    # The send time is a setting.
    assert w40 not in due_weeks(local(2026, 10, 8, 8, 0), calendar, time(9, 30))
    assert due_weeks(local(2026, 10, 8, 9, 30), calendar, time(9, 30)) == [w40]


def test_a_week_without_working_days_sends_two_reports_on_the_first_working_day():
    """Spring Festival 2026: 02-16 … 02-23 are all rest days, so W07 and W08 both go out Tuesday 02-24."""
    calendar = package_calendar()
    w07, w08 = IsoWeek.parse("2026-W07"), IsoWeek.parse("2026-W08")
    assert send_day(w07, calendar).isoformat() == send_day(w08, calendar).isoformat() == "2026-02-24"
    assert due_weeks(local(2026, 2, 23, 8, 0), calendar, EIGHT) == [w07.previous()]
    assert due_weeks(local(2026, 2, 24, 8, 0), calendar, EIGHT) == [w07, w08]


def test_the_beat_fires_daily_at_the_configured_send_time():
    from celery.schedules import crontab

    from shared.settings import Settings
    from workers.schedule import beat_schedule

    entry = beat_schedule(Settings(demo=True, report_send_at=time(7, 45)))["weekly-report"]
    assert entry["task"] == "reports.weekly"
    assert entry["schedule"] == crontab(minute=45, hour=7)
    assert beat_schedule(Settings(demo=True))["weekly-report"]["schedule"] == crontab(minute=0, hour=8)


# ------------------------------------------------------------------ outbox attachments

DOCX_BYTES = b"PK\x03\x04" + bytes(range(256)) * 40  # binary, with every byte value
XLSX_BYTES = b"PK\x03\x04xlsx" + b"\x00\xff" * 999
FILES = (MailAttachment("共治周报-2026-W48.docx", DOCX_TYPE, DOCX_BYTES),
         MailAttachment("共治周报-2026-W48.xlsx", XLSX_TYPE, XLSX_BYTES))


def _parts(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename() or "": part.get_content() for part in message.iter_attachments()}  # type: ignore[misc]


def test_a_message_with_attachments_is_mime_a_mail_client_reads():
    item = Outgoing(9, "weekly:2026-W48:all:3", "report.weekly", "leader@gov.example", "【周报】2026年第48周",
                    "刘领导，您好：\n本周按时反馈率 85%。", "<p>刘领导，您好：</p>", FILES)
    raw = render_message(item, mail_from="共治协同平台 <noreply@gongzhi.local>", now=datetime(2026, 11, 30, tzinfo=UTC))
    assert all(b < 128 for b in raw), "7-bit clean"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message: EmailMessage = message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    assert message.get_content_type() == "multipart/mixed"
    assert message["Message-ID"] == message_id(9, "weekly:2026-W48:all:3")
    assert message["Subject"] == "【周报】2026年第48周"
    assert message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and "按时反馈率 85%" in plain.get_content()  # type: ignore[attr-defined]
    assert html is not None and "刘领导" in html.get_content()  # type: ignore[attr-defined]
    assert _parts(message) == {"共治周报-2026-W48.docx": DOCX_BYTES, "共治周报-2026-W48.xlsx": XLSX_BYTES}
    types = [p.get_content_type() for p in message.iter_attachments()]
    assert types == [DOCX_TYPE, XLSX_TYPE]


@pytest.mark.parametrize("batch", [1, 10])
def test_attachments_travel_through_the_outbox_once(engine: Engine, clock: FrozenClock, batch: int):
    """Rounds mixing plain digests and a report: each arrives once, the report with its files intact.

    With rounds of one, the report is claimed by the statement that also settles the round before.
    """
    args = dict(kind="report.weekly", to_address="leader@gov.example", subject="【周报】2026年第48周",
                body_text="周报", body_html="<p>周报</p>", now=clock.now())
    with session_scope(engine) as s:
        enqueue(s, key="reminder:due_today:1:5:2026-12-01", kind="reminder.digest", to_address="a@gov.example",
                subject="催办", body_text="x", body_html="<p>x</p>", now=clock.now())
        assert enqueue(s, key="weekly:2026-W48:all:3", attachments=FILES, **args) is True  # type: ignore[arg-type]
        enqueue(s, key="reminder:due_today:2:5:2026-12-01", kind="reminder.digest", to_address="b@gov.example",
                subject="催办", body_text="y", body_html="<p>y</p>", now=clock.now())
    with session_scope(engine) as s:  # the same key again, in a later transaction: nothing, no second file
        assert enqueue(s, key="weekly:2026-W48:all:3", attachments=FILES, **args) is False  # type: ignore[arg-type]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(OutboxAttachment)) == 2
    with SmtpSink() as sink:
        report = relay.run(engine, clock, smtp=SmtpConfig.from_url(sink.url),
                           policy=relay.RelayPolicy(batch_size=batch, run_seconds=30))
        assert report.sent == 3
    by_to = {m.rcpt_tos[0]: m for m in sink.messages}
    assert set(by_to) == {"a@gov.example", "b@gov.example", "leader@gov.example"}
    assert _parts(by_to["leader@gov.example"].message) == {f.filename: f.content for f in FILES}
    assert list(by_to["a@gov.example"].message.iter_attachments()) == []
    assert by_to["a@gov.example"].message.get_content_type() == "multipart/alternative"
    with session_scope(engine) as s:
        assert set(s.scalars(select(OutboxMessage.state))) == {OutboxState.SENT}  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [0, 2])
def test_a_claim_loads_the_files_of_the_messages_that_have_them(engine: Engine, clock: FrozenClock, count: int):
    with session_scope(engine) as s:
        enqueue(s, key="weekly:2026-W48:all:3", kind="report.weekly", to_address="leader@gov.example",
                subject="周报", body_text="t", body_html="<p>t</p>", now=clock.now(), attachments=FILES[:count])
    [claimed] = relay.claim(engine, clock.now(), 10)
    assert claimed.item.attachments == FILES[:count]


# ------------------------------------------------------------------ a week to report

WEEK = IsoWeek.parse("2026-W40")  # 09-28 … 10-04, then the National Day holiday (10-01 … 10-07)
HOLIDAY_MONDAY = local(2026, 10, 5, 8, 0)
SEND_AT = local(2026, 10, 8, 8, 0)  # Thursday: the first working day of W41


def build_week(session: Session) -> World:
    """商务局 lets its assignment run overdue; 公安局 accepts and reports back on time."""
    from shared.assignments import service as assignments
    from shared.assignments.schemas import DispatchIn, FeedbackIn
    from shared.cases import service as cases
    from tests.factories import build_world, case_input

    clock = FrozenClock(local(2026, 9, 28, 9, 0))
    world = build_world(session, clock)
    case = cases.create_case(session, clock, world.coordinator, case_input(world, lead="SCJG", shared=("SWJ", "GAJ")))
    for code, days in (("SWJ", 1), ("GAJ", 2)):
        assignments.dispatch(session, clock, world.coordinator, case.id,  # type: ignore[arg-type]
                             DispatchIn(department_id=world.dept(code).id, working_days=days,
                                        instructions="核查经营资质并反馈"))
    session.flush()
    gaj = session.scalars(select(Assignment).where(
        col(Assignment.department_id) == world.dept("GAJ").id)).one()
    clock.set(local(2026, 9, 29, 10, 0))
    assignments.accept(session, clock, world.liaison("GAJ"), gaj.id, gaj.version)  # type: ignore[arg-type]
    assignments.submit_feedback(session, clock, world.liaison("GAJ"), gaj.id, gaj.version,  # type: ignore[arg-type]
                                FeedbackIn(narrative="已约谈门店负责人，责令退费", fines_yuan=Decimal("5000")))
    session.commit()
    return world


def _reports(engine: Engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.scalars(select(OutboxMessage).where(col(OutboxMessage.kind) == delivery.KIND)
                              .order_by(col(OutboxMessage.id))))


def _count(engine: Engine, model: Any) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _scheduled(engine: Engine, settings: Settings, at: datetime) -> dict[str, Any]:
    with session_scope(engine) as s:
        return delivery.run_scheduled(s, now=at.astimezone(UTC), settings=settings).as_dict()


def test_the_keys_are_built_from_stable_ids():
    assert delivery.dedup_key(WEEK, "all", 12) == "weekly:2026-W40:all:12"
    assert delivery.dedup_key(WEEK, "department:5", 40) == "weekly:2026-W40:department:5:40"


def test_leaders_get_the_whole_report_and_heads_their_section_once(engine: Engine, settings: Settings):
    with session_scope(engine) as s:
        world = build_week(s)
    # Monday 10-05 is a holiday: nothing goes out (the week before had no case at all).
    assert _scheduled(engine, settings, HOLIDAY_MONDAY)["weeks"] == []
    assert _reports(engine) == []

    run = _scheduled(engine, settings, SEND_AT)
    assert run["weeks"] == [{"week": "2026-W40", "recipients": 7, "queued": 7, "already": 0}]
    messages = _reports(engine)
    keys = {m.dedup_key: m for m in messages}
    leader = keys[f"weekly:2026-W40:all:{world.leader.id}"]
    assert leader.to_address == "leader@gov.example" and "2026" in leader.subject
    for code in ("SCJG", "XFXH", "GAJ", "WJW", "SWJ", "TYJ"):
        head = keys[f"weekly:2026-W40:department:{world.dept(code).id}:{world.head(code).id}"]
        assert head.to_address == f"head_{code.lower()}@gov.example"
    assert len(keys) == 7
    assert all(m.attachment_count == 2 for m in messages)

    # The files: the leader's cover every department, a head's only theirs (plus the league table).
    files = _attachments(engine, leader.id)  # type: ignore[arg-type]
    assert sorted(files) == ["共治周报-2026-W40.docx", "共治周报-2026-W40.xlsx"]
    leader_doc = _docx_text(files["共治周报-2026-W40.docx"])
    assert "商务局" in leader_doc and "公安局" in leader_doc
    swj = keys[f"weekly:2026-W40:department:{world.dept('SWJ').id}:{world.head('SWJ').id}"]
    swj_files = _attachments(engine, swj.id)  # type: ignore[arg-type]
    assert sorted(swj_files) == ["共治周报-2026-W40-商务局.docx", "共治周报-2026-W40-商务局.xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(swj_files["共治周报-2026-W40-商务局.xlsx"]))
    assert book.sheetnames

    # Again at the same moment (a second beat), later that day, the next day: nothing more.
    for at in (SEND_AT, local(2026, 10, 8, 17, 0), local(2026, 10, 9, 8, 0)):
        assert _scheduled(engine, settings, at)["skipped"] == {"2026-W40": "delivered"}
    # A rerun of the week by hand sends nothing twice either.
    with session_scope(engine) as s:
        again = delivery.deliver_week(s, WEEK, now=local(2026, 10, 9, 9, 0).astimezone(UTC), settings=settings)
    assert (again.queued, again.already) == (0, 7)
    assert len(_reports(engine)) == 7
    assert _count(engine, WeeklyReportDelivery) == 7
    assert _count(engine, WeeklyReportRecord) == 7  # the whole report and six sections


def test_a_head_added_later_gets_the_week_when_it_is_sent_again(engine: Engine, settings: Settings):
    with session_scope(engine) as s:
        world = build_week(s)
    _scheduled(engine, settings, SEND_AT)
    with session_scope(engine) as s:
        s.add(User(username="head2_swj", name="钱副主任", email="head2_swj@gov.example",
                   department_id=world.dept("SWJ").id, role=Role.HEAD, password_hash="x",  # type: ignore[arg-type]
                   created_at=SEND_AT, language="en"))
    with session_scope(engine) as s:
        again = delivery.deliver_week(s, WEEK, now=local(2026, 10, 9, 9, 0).astimezone(UTC), settings=settings)
    assert (again.queued, again.already, again.queued_to) == (1, 7, ["head2_swj@gov.example"])
    newest = _reports(engine)[-1]
    assert newest.to_address == "head2_swj@gov.example"
    assert sorted(_attachments(engine, newest.id)) == [  # type: ignore[arg-type]
        "gongzhi-weekly-report-2026-W40-商务局.docx", "gongzhi-weekly-report-2026-W40-商务局.xlsx"]


def test_a_week_still_running_or_in_the_future_is_not_sent(engine: Engine, settings: Settings):
    with session_scope(engine) as s:
        build_week(s)
    with session_scope(engine) as s, pytest.raises(Invalid) as running:
        delivery.deliver_week(s, IsoWeek.parse("2026-W41"), now=SEND_AT.astimezone(UTC), settings=settings)
    assert running.value.key == "report.week_not_over"
    with session_scope(engine) as s, pytest.raises(Invalid):
        delivery.deliver_week(s, IsoWeek.parse("2026-W45"), now=SEND_AT.astimezone(UTC), settings=settings)
    with session_scope(engine) as s, pytest.raises(Invalid):
        delivery.deliver_week(s, IsoWeek.parse("2026-W30"), now=SEND_AT.astimezone(UTC), settings=settings)
    assert _reports(engine) == [] and _count(engine, WeeklyReportRecord) == 0


def test_only_an_admin_regenerates_and_nothing_is_sent_again(engine: Engine, settings: Settings):
    with session_scope(engine) as s:
        world = build_week(s)
    _scheduled(engine, settings, SEND_AT)
    later = local(2026, 10, 12, 10, 0).astimezone(UTC)
    with session_scope(engine) as s, pytest.raises(Forbidden):
        archive.regenerate(s, s.get(User, world.leader.id), WEEK, now=later, settings=settings)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        records = archive.regenerate(s, s.get(User, world.admin.id), WEEK, now=later,  # type: ignore[arg-type]
                                     settings=settings)
        assert {r.revision for r in records} == {2} and len(records) == 7
        assert {r.generated_by_id for r in records} == {world.admin.id}
    with session_scope(engine) as s:
        events = s.scalars(select(Event).where(col(Event.object_type) == "weekly_report")).all()
        assert len(events) == 7 and {e.actor_id for e in events} == {world.admin.id}
    assert len(_reports(engine)) == 7
    with session_scope(engine) as s, pytest.raises(Invalid):
        archive.regenerate(s, s.get(User, world.admin.id), IsoWeek.parse("2026-W42"),  # type: ignore[arg-type]
                           now=later, settings=settings)


def _attachments(engine: Engine, message_id: int) -> dict[str, bytes]:
    with session_scope(engine) as s:
        return {a.filename: a.content for a in s.scalars(
            select(OutboxAttachment).where(col(OutboxAttachment.message_id) == message_id))}


def _docx_text(content: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(content))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(texts)


# ------------------------------------------------------------------ a real worker, killed mid-run


def _waiting_on_locks(engine: Engine, database: str) -> int:
    """Backends of the test database blocked on a lock (the worker's task, held up by the test)."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"),
            {"db": database}).scalar_one())


def _busy_backends(engine: Engine, database: str) -> int:
    """Backends of the test database inside a statement or a transaction (pooled idle ones aside)."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid() "
            "AND state <> 'idle'"), {"db": database}).scalar_one())


def _report_mail(sink: SmtpSink) -> list[Any]:
    return [m for m in list(sink.messages) if m.message["X-Gongzhi-Kind"] == delivery.KIND]


@pytest.mark.slow
def test_two_beats_and_a_killed_worker_send_each_recipient_one_email(postgres_database: str, tmp_path: Path):
    """Two beats fire at once; the worker is killed while both runs are inside their transaction;
    a new worker gets two more beats, then a rerun: each of the 7 recipients receives exactly one email."""
    broker = redis_test_url(db=4)
    engine = make_engine(postgres_database)
    _truncate_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        world = build_week(s)
    database = postgres_database.rsplit("/", 1)[1]
    expected = {"leader@gov.example"} | {f"head_{code.lower()}@gov.example"
                                         for code in ("SCJG", "XFXH", "GAJ", "WJW", "SWJ", "TYJ")}
    worker_dir = tmp_path / "worker"
    with SmtpSink() as sink:
        # Every week renders in the pool of worker processes here, as a large city's does, so the
        # pool is exercised inside a real Celery worker's (prefork) process.
        worker = CeleryWorker(database_url=postgres_database, broker_url=broker, smtp_url=sink.url,
                              data_dir=worker_dir, queue="gongzhi", concurrency=2,
                              env={"GONGZHI_REPORT_RENDER_PARALLEL_ROWS": "0", "GONGZHI_REPORT_RENDER_PROCESSES": "2"})
        # Hold every insert into the outbox: the runs compute the report, archive it, and wait there.
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE outbox_message IN SHARE MODE"))
            worker.start()
            try:
                worker.send("reports.weekly", now=SEND_AT.isoformat())
                worker.send("reports.weekly", now=SEND_AT.isoformat())
                wait_until(lambda: _waiting_on_locks(engine, database) >= 2, timeout=60,
                           message=lambda: "both runs blocked inside their transaction\n" + worker.log()[-3000:])
            finally:  # a failed wait must not leave a worker behind to take later tests' tasks
                worker.kill()
            blocker.rollback()
        # The killed runs' transactions die with their connections: nothing of them remains.
        wait_until(lambda: _busy_backends(engine, database) == 0, timeout=30,
                   message="the killed worker's sessions end")
        assert _reports(engine) == [] and _count(engine, WeeklyReportRecord) == 0

        with worker:  # a new worker: two beats at once, then a rerun
            worker.send("reports.weekly", now=SEND_AT.isoformat())
            worker.send("reports.weekly", now=SEND_AT.isoformat())
            wait_until(lambda: len(_report_mail(sink)) >= 7, timeout=90,
                       message=lambda: f"7 reports (got {len(_report_mail(sink))})\n" + worker.log()[-3000:])
            worker.send("reports.weekly", now=local(2026, 10, 8, 8, 5).isoformat())
            wait_until(lambda: _succeeded(worker, "reports.weekly") >= 3, timeout=60,
                       message=lambda: worker.log()[-3000:])
            relays = _succeeded(worker, "outbox.relay")
            worker.send("outbox.relay")
            wait_until(lambda: _succeeded(worker, "outbox.relay") > relays, timeout=30,
                       message=lambda: worker.log()[-3000:])
        received = _report_mail(sink)
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(expected)  # each exactly once
    assert not sink.duplicates()
    leader = next(m for m in received if m.rcpt_tos == ["leader@gov.example"])
    assert sorted(a.get_filename() for a in leader.message.iter_attachments()) == [
        "共治周报-2026-W40.docx", "共治周报-2026-W40.xlsx"]
    assert {m.state for m in _reports(engine)} == {OutboxState.SENT}
    assert _count(engine, WeeklyReportDelivery) == 7 and world.leader.id is not None
    engine.dispose()


def _succeeded(worker: CeleryWorker, task: str) -> int:
    return sum(1 for line in worker.log().splitlines() if f"{task}[" in line and "succeeded" in line)


# ------------------------------------------------------------------ gongzhi report weekly


def test_the_command_writes_each_format_and_sends_the_week_once(cli: Any, engine: Engine, tmp_path: Path):
    from services.cli import app as cli_app

    with session_scope(engine) as s:
        build_week(s)
    out = tmp_path / "out"
    done = cli.invoke(cli_app, ["report", "weekly", "--week", "2026-W40", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == [
        "共治周报-2026-W40.docx", "共治周报-2026-W40.html", "共治周报-2026-W40.json", "共治周报-2026-W40.xlsx"]
    assert "商务局" in _docx_text((out / "共治周报-2026-W40.docx").read_bytes())
    assert openpyxl.load_workbook(out / "共治周报-2026-W40.xlsx").sheetnames
    assert json.loads((out / "共治周报-2026-W40.json").read_text())["week"] == "2026-W40"
    assert "商务局" in (out / "共治周报-2026-W40.html").read_text()
    english = cli.invoke(cli_app, ["report", "weekly", "--week", "2026-W40", "--department", "SWJ",
                                   "--format", "docx", "--lang", "en", "--out", str(out)])
    assert english.exit_code == 0, english.output
    assert (out / "gongzhi-weekly-report-2026-W40-商务局.docx").exists()
    assert _reports(engine) == []  # building is not sending

    for args, expected in (
        (["--week", "2099-W01"], "2099-W01"),  # in the future
        (["--week", "2026-W30"], "2026-W30"),  # before the first case
        (["--week", "2026-W40", "--format", "docx"], "--out"),  # a binary file needs a directory
        (["--week", "2026-W40", "--format", "pdf"], "pdf"),
    ):
        refused = cli.invoke(cli_app, ["report", "weekly", *args])
        assert refused.exit_code == 2, (args, refused.output)
        assert expected in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    sent = cli.invoke(cli_app, ["report", "weekly", "--week", "2026-W40", "--send", "--out", str(out),
                                "--format", "json"])
    assert sent.exit_code == 0, sent.output
    assert "2026-W40：新排队 7 封邮件，此前已排队 0 封（收件人 7 位）" in sent.output
    assert "-> leader@gov.example" in sent.output
    again = cli.invoke(cli_app, ["report", "weekly", "--week", "2026-W40", "--send", "--out", str(out),
                                 "--format", "json"])
    assert again.exit_code == 0 and "新排队 0 封邮件，此前已排队 7 封" in again.output
    assert len(_reports(engine)) == 7
