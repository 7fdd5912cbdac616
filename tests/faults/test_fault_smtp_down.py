"""The mail server is down for a while: nothing is lost, nothing is doubled, and it is not hammered meanwhile."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from shared.clock import FrozenClock
from shared.db import make_engine, session_scope
from shared.outbox.models import OutboxMessage
from tests.celery_harness import CeleryWorker, SmtpSink, redis_test_url, wait_until
from tests.faults.support import Ticker, counts, ids_by_state
from tests.test_outbox_relay import put

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

N = 200
OUTAGE_SECONDS = 5.0


def max_attempts(engine) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return int(s.scalar(select(func.max(OutboxMessage.attempts))) or 0)


def test_smtp_outage_then_everything_arrives_once(fault_db, tmp_path, capsys):
    engine = make_engine(fault_db)
    put(engine, FrozenClock(datetime.now(UTC)), N)
    # Backoff 1 s, 2 s, 4 s (production: 30 s doubling to 30 min).
    env = {"GONGZHI_OUTBOX_BACKOFF_SECONDS": "1", "GONGZHI_OUTBOX_BACKOFF_MAX_SECONDS": "4"}
    sink = SmtpSink()  # its port is reserved but nothing listens yet: the server is down
    with CeleryWorker(database_url=fault_db, broker_url=redis_test_url(db=14), smtp_url=sink.url,
                      data_dir=tmp_path, env=env) as worker, Ticker(worker.kick_relay, every=0.25):
        # "beat" asks for a relay four times a second throughout.
        down_since = time.monotonic()
        wait_until(lambda: counts(engine).get("pending") == N and max_attempts(engine) >= 1, 30,
                   message=lambda: f"first attempts\n{worker.log()[-2000:]}")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))
        attempts_during_outage = max_attempts(engine)
        with session_scope(engine) as s:
            error = s.scalar(select(OutboxMessage.last_error).limit(1))
        sink.start()
        back_at = time.monotonic()
        try:
            wait_until(lambda: counts(engine) == {"sent": N}, 30,
                       message=lambda: f"all sent: {counts(engine)}\n{worker.log()[-2000:]}")
            recovered_in = time.monotonic() - back_at
        finally:
            sink.stop()
    received = Counter(sink.message_ids())
    with capsys.disabled():
        print(f"\n[smtp down {OUTAGE_SECONDS:.0f}s] kicks every 0.25s, yet at most {attempts_during_outage} "
              f"attempts per message during the outage; all {N} delivered {recovered_in:.1f}s after it returned")

    assert "Connection refused" in (error or "") or "ConnectionRefused" in (error or "")
    # 20 kicks came during the outage; backoff (1+2+4 s) allowed only a few attempts.
    assert 2 <= attempts_during_outage <= 4
    assert len(received) == N and set(received.values()) == {1}
    assert set(received) == ids_by_state(engine)["sent"]
    assert "SMTP unavailable" in worker.log()
    engine.dispose()
