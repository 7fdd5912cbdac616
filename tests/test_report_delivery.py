"""Delivering the weekly summary: when (Monday, or the first working day), to whom, with which files, once.

The outbox carries attachments (the Word and Excel files); a week's report is
queued once per (week, scope, recipient) whatever runs it — two beats, a task
retried or killed, a rerun of the command — down to a real Celery worker on
Redis delivering to a real SMTP server.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from shared.calendar.service import package_calendar
from shared.clock import FrozenClock
from shared.db import session_scope
from shared.outbox import relay
from shared.outbox.models import OutboxAttachment, OutboxMessage, OutboxState
from shared.outbox.service import enqueue
from shared.outbox.smtp import MailAttachment, Outgoing, SmtpConfig, message_id, render_message
from shared.reports.schedule import due_weeks, send_day, send_moment
from shared.reports.weeks import IsoWeek
from tests.celery_harness import SmtpSink

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
