"""PostgreSQL drops the relay's connections mid-batch: the relay reconnects and finishes, nothing doubled.

The machine's PostgreSQL serves other test runs, so the test does not restart
it.  What a restart does to a client — every connection is cut, the next
statement fails with "terminating connection due to administrator command" —
is reproduced exactly with `pg_terminate_backend()` on every connection to
this test's own database, twice, while a real worker is relaying.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from shared.clock import FrozenClock
from shared.db import make_engine
from shared.outbox.relay import RelayPolicy
from tests.celery_harness import CeleryWorker, SmtpSink, redis_test_url, wait_until
from tests.conftest import POSTGRES_ADMIN_URL
from tests.faults.support import Ticker, counts, ids_by_state
from tests.test_outbox_relay import put

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

N = 600


def terminate_connections(database: str) -> int:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ), {"db": database}).all())
    finally:
        admin.dispose()


def test_relay_recovers_when_its_database_connections_are_cut(fault_db, tmp_path, capsys):
    database = fault_db.rsplit("/", 1)[1]
    engine = make_engine(fault_db)
    put(engine, FrozenClock(datetime.now(UTC)), N)
    cuts: list[tuple[int, int]] = []
    with SmtpSink(delay=0.004) as sink, CeleryWorker(
        database_url=fault_db, broker_url=redis_test_url(db=14), smtp_url=sink.url, data_dir=tmp_path,
        concurrency=1, env={"GONGZHI_OUTBOX_STALE_SECONDS": "4"},
    ) as worker:
        assert worker.kick_relay()
        for threshold in (100, 300):
            wait_until(lambda t=threshold: len(sink.messages) >= t, 60,
                       message=lambda: f"progress\n{worker.log()[-2000:]}")
            cuts.append((len(sink.messages), terminate_connections(database)))
        # Beat keeps ticking (relay, and now and then the reaper).
        with Ticker(worker.kick_relay, every=1.0), Ticker(lambda: worker.send("outbox.reap"), every=2.0):
            wait_until(lambda: not {"pending", "sending"} & set(counts(engine)), 60,
                       message=lambda: f"settled: {counts(engine)}\n{worker.log()[-3000:]}")
        time.sleep(0.2)
    final = counts(engine)
    received = Counter(sink.message_ids())
    log = worker.log()
    with capsys.disabled():
        print(f"\n[postgres connections cut at {[c[0] for c in cuts]} sent, "
              f"{[c[1] for c in cuts]} backends each] final {final}; "
              f"'database unavailable' retries logged: {log.count('database unavailable')}")

    assert all(n >= 1 for _, n in cuts), "the worker's connections were really cut"
    assert "database unavailable" in log, "the relay met the cut and retried"
    assert final.get("sent", 0) + final.get("unknown", 0) == N
    assert final.get("unknown", 0) <= RelayPolicy().batch_size  # at worst the round whose commit was lost
    assert not [mid for mid, n in received.items() if n > 1], "nothing sent twice"
    assert all(received[mid] == 1 for mid in ids_by_state(engine)["sent"])
    engine.dispose()
