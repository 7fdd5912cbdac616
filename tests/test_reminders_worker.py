"""End to end: a real Celery worker on real Redis runs "reminders.pass"; the mail arrives by SMTP.

Also `gongzhi remind --now …` as an admin would run it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from services import cli
from shared.clock import FrozenClock
from shared.db import make_engine
from shared.outbox.models import OutboxMessage, OutboxState
from shared.settings import get_settings
from tests.celery_harness import CeleryWorker, SmtpSink, redis_test_url, wait_until, worker_env
from tests.conftest import _truncate_all
from tests.factories import World, build_world
from tests.reminder_builders import local, make_assignment, make_case

pytestmark = pytest.mark.slow

PASS_AT = "2026-10-13T09:00:00+08:00"  # Tue; 3 working days after a due date of Fri 10-09


def _overdue_world(engine: Engine) -> tuple[World, list[str]]:
    """Two assignments for 商务局 due Fri 10-09 17:30: on Tue 10-13 they are 3 working days late."""
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session, FrozenClock(local(2026, 10, 1)))
        refs = []
        for title in ("某超市销售过期食品", "某电商平台虚假促销"):
            case = make_case(session, world.coordinator, title=title)
            make_assignment(session, case, world.dept("SWJ").id, world.coordinator,
                            at=local(2026, 10, 8, 9), working_days=1)
            refs.append(case.reference)
        session.commit()
    return world, refs


EXPECTED = {
    "liaison_swj@gov.example": "【逾期】2 项任务已逾期",
    "head_swj@gov.example": "【督办】2 项任务逾期 3 个工作日以上",
    "coordinator@gov.example": "【督办】2 项任务逾期 3 个工作日以上",
}


def _succeeded(worker: CeleryWorker, task: str) -> int:
    return sum(1 for line in worker.log().splitlines() if f"{task}[" in line and "succeeded" in line)


def test_reminder_pass_in_a_real_worker_delivers_each_digest_once(
    postgres_database: str, tmp_path: Path
) -> None:
    broker = redis_test_url(db=12)
    engine = make_engine(postgres_database)
    _truncate_all(engine)
    _overdue_world(engine)
    # The worker consumes the default queue, so the relay kicked by the task after its
    # commit lands on it too (the test owns Redis db 12, nothing else listens there).
    with SmtpSink() as sink, CeleryWorker(database_url=postgres_database, broker_url=broker,
                                          smtp_url=sink.url, data_dir=tmp_path, queue="gongzhi") as worker:
        worker.send("reminders.pass", now=PASS_AT)
        received = sink.wait_for(3, timeout=30)
        assert {m.rcpt_tos[0]: m.subject for m in received} == EXPECTED
        digest = next(m for m in received if m.rcpt_tos == ["liaison_swj@gov.example"])
        assert "某超市销售过期食品" in digest.body("plain") and "某电商平台虚假促销" in digest.body("plain")
        assert "/assignments/" in digest.body("html") and "已逾期 3 个工作日" in digest.body("html")

        # The pass again, twice at once (two beats, two workers): nothing more is sent.
        worker.send("reminders.pass", now=PASS_AT)
        worker.send("reminders.pass", now=PASS_AT)
        wait_until(lambda: _succeeded(worker, "reminders.pass") >= 3, timeout=30,
                   message=lambda: worker.log()[-3000:])
        relays = _succeeded(worker, "outbox.relay")
        worker.send("outbox.relay")
        wait_until(lambda: _succeeded(worker, "outbox.relay") > relays, timeout=30,
                   message=lambda: worker.log()[-3000:])
        assert len(sink.messages) == 3
        assert not sink.duplicates()
    with Session(engine) as session:
        states = list(session.scalars(select(OutboxMessage.state)))
    assert sorted(states) == [OutboxState.SENT] * 3
    engine.dispose()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[SmtpSink]:
    """The CLI's settings (environment) pointing at the test database and an SMTP sink."""
    with SmtpSink() as sink:
        for name, value in worker_env(database_url=db_url, broker_url="memory://", smtp_url=sink.url,
                                      data_dir=tmp_path).items():
            if name.startswith("GONGZHI_"):
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield sink
    get_settings.cache_clear()


def test_gongzhi_remind_runs_a_pass_and_delivers(engine: Engine, cli_env: SmtpSink) -> None:
    _overdue_world(engine)
    sink = cli_env

    def remind(now: str) -> str:
        done = CliRunner().invoke(cli.app, ["remind", "--now", now])
        assert done.exit_code == 0, done.output
        return done.output

    sunday = remind("2026-10-11T10:00")  # local time when no offset is given
    assert "nothing sent: non_working_day" in sunday and "queued: 0 email(s)" in sunday
    out = remind("2026-10-13T09:00")
    assert "reminder pass at 2026-10-13 09:00 Asia/Shanghai" in out
    assert "new notices: escalation 4, overdue 2" in out
    assert "queued: 3 email(s) to 3 recipient(s) (3 digest, 0 single)" in out
    for to, subject in EXPECTED.items():
        assert f"-> {to}  {subject}" in out
    assert "delivery: sent 3, retrying 0, failed 0, unknown 0" in out
    assert {m.rcpt_tos[0] for m in sink.wait_for(3)} == set(EXPECTED)
    again = remind("2026-10-13T09:30")
    assert "queued: 0 email(s)" in again and "delivery: sent 0" in again
    assert len(sink.messages) == 3
