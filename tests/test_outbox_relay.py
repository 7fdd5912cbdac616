"""The relay over real SMTP, on SQLite and PostgreSQL: delivered once, retried with backoff, never blindly resent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from shared.actors import SYSTEM
from shared.clock import FrozenClock
from shared.db import session_scope
from shared.outbox import admin, relay
from shared.outbox.models import OutboxMessage, OutboxState
from shared.outbox.service import enqueue
from shared.outbox.smtp import SmtpConfig, message_id
from tests.celery_harness import SmtpSink

SUBJECT = "【催办】3 项任务今天到期"
FAST = relay.RelayPolicy(batch_size=20, backoff_seconds=30, backoff_max_seconds=1800, max_attempts=5,
                         stale_seconds=300, run_seconds=30, round_seconds=30)


def put(engine: Engine, clock: FrozenClock, n: int = 1, *, to: str = "liaison{i}@gov.example",
        prefix: str = "reminder:due_today") -> list[int]:
    """Write n outbox rows in one committed transaction, as a service would."""
    with session_scope(engine) as s:
        for i in range(n):
            enqueue(s, key=f"{prefix}:{i}:2026-12-01", kind="reminder.digest", to_address=to.format(i=i),
                    subject=SUBJECT, body_text=f"第 {i} 条", body_html=f"<p>第 {i} 条</p>", now=clock.now())
    with session_scope(engine) as s:
        return list(s.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


def rows(engine: Engine) -> dict[int, OutboxMessage]:
    with session_scope(engine) as s:
        return {m.id: m for m in s.scalars(select(OutboxMessage))}  # type: ignore[misc]


def states(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {k: v for k, v in admin.counts(s, SYSTEM).items() if v}


def run(engine: Engine, clock: FrozenClock, sink_url: str, policy: relay.RelayPolicy = FAST) -> relay.RelayReport:
    return relay.run(engine, clock, smtp=SmtpConfig.from_url(sink_url), policy=policy)


def test_delivers_each_message_once_as_sent(engine, clock):
    ids = put(engine, clock, 3)
    with SmtpSink() as sink:
        report = run(engine, clock, sink.url)
        assert (report.claimed, report.sent) == (3, 3)
        assert run(engine, clock, sink.url).claimed == 0
    assert sorted(sink.message_ids()) == sorted(
        message_id(i, m.dedup_key) for i, m in rows(engine).items()
    )
    assert {m.subject for m in sink.messages} == {SUBJECT}
    for m in rows(engine).values():
        assert (m.state, m.attempts, m.sent_at) == (OutboxState.SENT, 1, clock.now())
    assert len(ids) == 3


def test_enqueue_twice_is_one_row_and_one_mail(engine, clock):
    with session_scope(engine) as s:
        args = dict(key="reminder:overdue:5:12:2026-12-01", kind="reminder.digest", to_address="a@gov.example",
                    subject=SUBJECT, body_text="x", body_html="<p>x</p>", now=clock.now())
        assert enqueue(s, **args) is True
        assert enqueue(s, **args) is False
    with session_scope(engine) as s:
        assert enqueue(s, **args) is False  # and in a later transaction too
    with SmtpSink() as sink:
        run(engine, clock, sink.url)
    assert len(rows(engine)) == 1 and len(sink.messages) == 1


def test_claim_is_committed_before_smtp_is_spoken(engine, clock):
    """While the server holds a message, another connection already sees its row as `sending`."""
    [row_id] = put(engine, clock, 1)
    seen: list[str] = []

    def look(_received):  # runs in the SMTP server's thread, on its own DB connection
        with session_scope(engine) as s:
            seen.append(str(s.get(OutboxMessage, row_id).state))  # type: ignore[union-attr]

    with SmtpSink(on_message=look) as sink:
        run(engine, clock, sink.url)
    assert seen == ["sending"]
    assert rows(engine)[row_id].state == OutboxState.SENT


def test_one_smtp_connection_for_a_whole_run(engine, clock):
    put(engine, clock, 45)
    with SmtpSink() as sink:
        report = run(engine, clock, sink.url)
    assert (report.rounds, report.sent) == (3, 45)
    assert sink.connections() == 1


def test_4xx_backs_off_then_delivers(engine, clock):
    put(engine, clock, 3)
    with SmtpSink() as sink:
        sink.script("liaison1@gov.example", "451 4.3.0 temporarily unavailable", "451 4.3.0 still busy")
        report = run(engine, clock, sink.url)
        assert (report.sent, report.retried) == (2, 1)
        busy = next(m for m in rows(engine).values() if m.to_address == "liaison1@gov.example")
        assert busy.state == OutboxState.PENDING and "451" in (busy.last_error or "")
        assert busy.next_attempt_at == clock.now() + timedelta(seconds=30)

        clock.advance(seconds=29)
        assert run(engine, clock, sink.url).claimed == 0  # not due yet
        clock.advance(seconds=1)
        assert run(engine, clock, sink.url).retried == 1
        busy = rows(engine)[busy.id]  # type: ignore[index]
        assert busy.next_attempt_at == clock.now() + timedelta(seconds=60)  # doubled

        clock.advance(seconds=60)
        assert run(engine, clock, sink.url).sent == 1
    assert rows(engine)[busy.id].attempts == 3  # type: ignore[index]
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == [f"liaison{i}@gov.example" for i in range(3)]
    assert not sink.duplicates()


def test_5xx_fails_for_good(engine, clock):
    put(engine, clock, 2)
    with SmtpSink() as sink:
        sink.always("liaison0@gov.example", "550 5.1.1 mailbox does not exist")
        report = run(engine, clock, sink.url)
        assert (report.sent, report.failed) == (1, 1)
        clock.advance(hours=2)
        assert run(engine, clock, sink.url).claimed == 0
    failed = [m for m in rows(engine).values() if m.state == OutboxState.FAILED]
    assert len(failed) == 1 and "550" in (failed[0].last_error or "")


def test_server_down_backs_off_exponentially_then_gives_up(engine, clock):
    put(engine, clock, 2)
    with SmtpSink() as sink:
        url = sink.url
    delays = []
    for _ in range(FAST.max_attempts):
        report = run(engine, clock, url)
        assert report.smtp_error and "ConnectionRefused" in report.smtp_error
        m = rows(engine)[min(rows(engine))]
        if m.state == OutboxState.FAILED:
            break
        delays.append((m.next_attempt_at - clock.now()).total_seconds())
        clock.set(m.next_attempt_at)
    assert delays == [30, 60, 120, 240]
    assert states(engine) == {"failed": 2}
    assert "gave up after 5 attempts" in (rows(engine)[min(rows(engine))].last_error or "")


def test_no_answer_after_data_is_unknown_and_not_resent(engine, clock):
    """The body went out but the reply never came: delivered or not, nobody knows."""
    put(engine, clock, 1)
    with SmtpSink(delay=2.5) as sink:
        report = run(engine, clock, sink.url + "?timeout=1")
        assert report.unknown == 1
        sink.wait_for(1)  # the server did take it
        clock.advance(days=1)
        assert run(engine, clock, sink.url).claimed == 0
    assert states(engine) == {"unknown": 1}
    assert len(sink.messages) == 1


def test_reaper_marks_dead_sends_unknown_and_admin_resend_keeps_the_message_id(engine, clock):
    ids = put(engine, clock, 3)
    # A worker claimed (and committed) a round, then died before settling it.
    claimed = relay.claim(engine, clock.now(), limit=2)
    assert [c.item.id for c in claimed] == ids[:2]

    clock.advance(seconds=299)
    assert relay.reap(engine, clock, FAST) == 0  # could still be sending
    clock.advance(seconds=2)
    assert relay.reap(engine, clock, FAST) == 2
    assert states(engine) == {"unknown": 2, "pending": 1}

    with SmtpSink() as sink:
        assert run(engine, clock, sink.url).sent == 1  # the unknown ones are left alone
        with session_scope(engine) as s:
            admin.retry(s, clock, SYSTEM, ids[0])
            admin.discard(s, clock, SYSTEM, ids[1])
        assert run(engine, clock, sink.url).sent == 1
    by_id = rows(engine)
    assert (by_id[ids[0]].state, by_id[ids[1]].state) == (OutboxState.SENT, OutboxState.DISCARDED)
    assert sink.message_ids()[1] == message_id(ids[0], by_id[ids[0]].dedup_key)


def test_a_round_over_its_time_budget_hands_back_unsent_rows(engine, clock):
    put(engine, clock, 6)
    slow = FAST.model_copy(update={"batch_size": 6, "round_seconds": 0.25})
    with SmtpSink(delay=0.1) as sink:
        first = run(engine, clock, sink.url, slow.model_copy(update={"run_seconds": 0.01}))
        assert 0 < first.sent < 6 and first.released == 6 - first.sent
        assert states(engine) == {"sent": first.sent, "pending": 6 - first.sent}
        # handed back untouched: not counted as an attempt, due at once
        assert {m.attempts for m in rows(engine).values() if m.state == OutboxState.PENDING} == {0}
        while states(engine).get("pending"):
            run(engine, clock, sink.url, slow)
    assert len(sink.messages) == 6 and not sink.duplicates()


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_421_closing_connection_reconnects_for_the_rest(engine, clock, stage):
    put(engine, clock, 4)
    with SmtpSink() as sink:
        sink.script("liaison1@gov.example", "421 4.3.2 shutting down", stage=stage)
        report = run(engine, clock, sink.url)
    assert (report.sent, report.retried) == (3, 1)
    assert sink.connections() == 2


def test_a_message_that_cannot_be_built_fails_alone(engine, clock):
    put(engine, clock, 1, to="张三@例子.中国")
    put(engine, clock, 1, prefix="fine")
    with SmtpSink() as sink:
        report = run(engine, clock, sink.url)
    assert (report.sent, report.failed) == (1, 1)
    failed = [m for m in rows(engine).values() if m.state == OutboxState.FAILED]
    assert failed[0].to_address == "张三@例子.中国" and len(sink.messages) == 1
