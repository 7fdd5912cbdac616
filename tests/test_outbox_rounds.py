"""The relay's rounds on SQLite and PostgreSQL: every outcome recorded whatever the round's mix,
the next message prepared while the server answers, the claim cheap however large the backlog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import event, text

from shared.outbox import relay
from shared.outbox.models import OutboxState
from shared.outbox.smtp import (
    Outcome,
    Outgoing,
    SmtpConfig,
    SmtpConnection,
    message_id,
    render_message,
)
from tests.celery_harness import SmtpSink
from tests.test_outbox_relay import FAST, put, rows, run, states


def test_rounds_with_refusals_between_clean_rounds_record_every_outcome(engine, clock):
    """Round 1 all delivered, round 2 with a 4xx and a 5xx, round 3 all delivered, on one connection."""
    put(engine, clock, 45)  # FAST rounds are 20: liaison0-19, 20-39, 40-44
    with SmtpSink() as sink:
        sink.script("liaison25@gov.example", "451 4.3.0 mailbox busy")
        sink.always("liaison31@gov.example", "550 5.1.1 no such user")
        report = run(engine, clock, sink.url)
    assert (report.rounds, report.sent, report.retried, report.failed) == (3, 43, 1, 1)
    assert states(engine) == {"sent": 43, "pending": 1, "failed": 1}
    by_address = {m.to_address: m for m in rows(engine).values()}
    busy, gone = by_address.pop("liaison25@gov.example"), by_address.pop("liaison31@gov.example")
    assert busy.next_attempt_at == clock.now() + timedelta(seconds=30) and "451" in (busy.last_error or "")
    assert "550" in (gone.last_error or "")
    assert {(m.state, m.attempts, m.sent_at) for m in by_address.values()} == {
        (OutboxState.SENT, 1, clock.now())}
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == sorted(by_address)
    assert not sink.duplicates() and sink.connections() == 1


def test_a_message_that_cannot_be_built_between_two_good_ones_fails_alone(engine, clock):
    put(engine, clock, 1, prefix="first")
    put(engine, clock, 1, to="张三@例子.中国", prefix="bad")
    put(engine, clock, 1, to="liaison2@gov.example", prefix="last")
    with SmtpSink() as sink:
        report = run(engine, clock, sink.url)
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == ["liaison0@gov.example", "liaison2@gov.example"]
    failed = [m for m in rows(engine).values() if m.state == OutboxState.FAILED]
    assert [m.to_address for m in failed] == ["张三@例子.中国"]
    assert "cannot build the message" in (failed[0].last_error or "")


def test_a_backlog_due_at_one_instant_goes_out_oldest_first_round_by_round(engine, clock):
    ids = put(engine, clock, 50)
    with SmtpSink() as sink:
        report = run(engine, clock, sink.url, FAST.model_copy(update={"batch_size": 7}))
    assert (report.rounds, report.sent) == (8, 50)
    by_id = rows(engine)
    assert sink.message_ids() == [message_id(i, by_id[i].dedup_key) for i in ids]
    assert {m.state for m in by_id.values()} == {OutboxState.SENT}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_claim_reads_its_round_from_the_index_without_sorting_the_backlog(engine, clock):
    """A pass enqueues thousands of digests due at the same instant: each claim must
    stop after its round, not read and sort every due row (that made draining O(n²))."""
    put(engine, clock, 300)
    sent: list[tuple[str, object]] = []
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
        with conn.begin() as tx:
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # as on a large table
            conn.execute(relay._claim_statement("postgresql", settles=True), {
                "now": clock.now(), "limit": 50, "sent_ids": [1, 2, 3], "round_claimed_at": clock.now()})
            statement, params = sent[-1]
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", params))  # type: ignore[arg-type]
            tx.rollback()
    assert "ix_outbox_state_next" in plan, plan
    assert "Sort" not in plan, plan


def test_lines_starting_with_a_dot_arrive_as_written():
    raw = (b"From: a@gov.example\r\nTo: b@gov.example\r\nSubject: dots\r\n\r\n"
           b".\r\n..two\r\nmiddle\r\n.end")
    with SmtpSink() as sink, SmtpConnection(SmtpConfig.from_url(sink.url)) as conn:
        assert conn.send("a@gov.example", "b@gov.example", raw).outcome is Outcome.SENT
        (got,) = sink.wait_for(1)
    assert got.raw.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n") == b".\r\n..two\r\nmiddle\r\n.end"


def test_the_date_header_is_written_in_the_clock_s_own_zone():
    item = Outgoing(1, "k", "reminder.digest", "a@gov.example", "催办", "t", "<p>t</p>")
    utc = datetime(2026, 12, 1, 2, 0, 7, 500_000, tzinfo=UTC)
    shanghai = utc.astimezone(timezone(timedelta(hours=8)))

    def date(now: datetime) -> str:
        head = render_message(item, mail_from="noreply@gongzhi.local", now=now).split(b"\r\n\r\n")[0]
        return next(line for line in head.decode().split("\r\n") if line.startswith("Date: "))[6:]

    assert date(utc).endswith("+0000") and date(shanghai).endswith("+0800")
    assert parsedate_to_datetime(date(shanghai)) == parsedate_to_datetime(date(utc)) == utc.replace(microsecond=0)
