"""Redis restarts in the middle of a batch: the worker reconnects by itself and no message is lost.

The test runs its own `redis-server` on a random port (no persistence, so the
restart also empties the queue) rather than disturbing the machine's one.
Nothing is lost because nothing that matters lives in Redis: the outbox rows
do, and the next beat tick relays whatever is still pending.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from shared.clock import FrozenClock
from shared.db import make_engine
from tests.celery_harness import CeleryWorker, RedisServer, SmtpSink, wait_until
from tests.conftest import missing_service
from tests.faults.support import Ticker, counts, ids_by_state
from tests.test_outbox_relay import put

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_redis_restart_mid_batch(fault_db, tmp_path, capsys):
    if not RedisServer.available():
        missing_service("redis-server binary not installed")
    engine = make_engine(fault_db)
    clock = FrozenClock(datetime.now(UTC))
    put(engine, clock, 300, prefix="before")
    with RedisServer() as redis_server, SmtpSink(delay=0.01) as sink, CeleryWorker(
        database_url=fault_db, broker_url=redis_server.url(0), smtp_url=sink.url, data_dir=tmp_path,
    ) as worker:
        pid = worker.pid
        assert worker.kick_relay()
        wait_until(lambda: len(sink.messages) >= 50, 30, message=lambda: f"50 sent\n{worker.log()[-2000:]}")

        redis_server.stop()
        down_at = len(sink.messages)
        started = time.monotonic()
        assert worker.kick_relay() is False  # a request during the outage: logged, not raised
        assert time.monotonic() - started < 5
        time.sleep(1.0)
        redis_server.start()  # same port, empty: the queued and unacknowledged tasks are gone

        # The relay that was running needs no broker: it finishes the first 300 on its own.
        wait_until(lambda: counts(engine) == {"sent": 300}, 60,
                   message=lambda: f"first batch: {counts(engine)}\n{worker.log()[-3000:]}")
        # The worker reconnects by itself (no restart) …
        wait_until(worker.ping, 30, message=lambda: f"the worker answers a ping again\n{worker.log()[-3000:]}")
        # … and takes new work from the new Redis: mail written after the restart goes out.
        put(engine, clock, 100, prefix="after")
        with Ticker(worker.kick_relay, every=1.0):  # beat, compressed: a tick a second
            wait_until(lambda: counts(engine) == {"sent": 400}, 60,
                       message=lambda: f"all sent: {counts(engine)}\n{worker.log()[-3000:]}")
        assert worker.pid == pid and worker.alive(), "the same worker process carried on"
        log = worker.log()
        assert "Connection to broker lost" in log and "Unrecoverable error" not in log
    received = Counter(sink.message_ids())
    with capsys.disabled():
        print(f"\n[redis restart] {down_at} delivered when Redis went away; the same worker (pid {pid}) "
              f"reconnected and finished: {counts(engine)}")
    assert len(received) == 400 and set(received.values()) == {1}
    assert set(received) == ids_by_state(engine)["sent"]
    engine.dispose()
