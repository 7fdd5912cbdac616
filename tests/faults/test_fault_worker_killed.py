"""`kill -9` the worker in the middle of 1,000 messages, start it again.

Every message ends up sent exactly once, except the ones that were in flight
when the worker died: the reaper marks those "unknown" for an admin, and no
Message-ID ever reaches the server twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from shared.clock import FrozenClock
from shared.db import make_engine
from shared.outbox.relay import RelayPolicy
from tests.celery_harness import CeleryWorker, RedisServer, SmtpSink, wait_until
from tests.conftest import missing_service
from tests.faults.support import counts, ids_by_state
from tests.test_outbox_relay import put

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

N = 1000
STALE_SECONDS = 4


def test_kill_9_mid_batch_then_restart(fault_db, tmp_path, capsys):
    if not RedisServer.available():
        missing_service("redis-server binary not installed")
    engine = make_engine(fault_db)
    put(engine, FrozenClock(datetime.now(UTC)), N)
    batch = RelayPolicy().batch_size
    env = {"GONGZHI_OUTBOX_STALE_SECONDS": str(STALE_SECONDS)}
    # A server that takes 3 ms per message, so the kill lands in the middle of the work;
    # a Redis of its own, so the dead worker's unacknowledged tasks do not linger in the shared one.
    with RedisServer() as redis_server, SmtpSink(delay=0.003) as sink:
        worker = CeleryWorker(database_url=fault_db, broker_url=redis_server.url(0), smtp_url=sink.url,
                              data_dir=tmp_path, env=env, concurrency=2)
        try:
            worker.start()
            worker.kick_relay()
            worker.kick_relay()  # two relays at once, as after a kick and a beat tick
            wait_until(lambda: len(sink.messages) >= 300, 60, message=lambda: f"300 sent\n{worker.log()[-2000:]}")
            worker.kill()
            at_kill = counts(engine)
            received_at_kill = len(sink.messages)
            assert at_kill.get("sending", 0) > 0, f"the kill should catch sends in flight: {at_kill}"

            worker.start()
            worker.kick_relay()
            # Everything not in doubt goes out; the dead worker's rows stay "sending" …
            wait_until(lambda: counts(engine).get("pending", 0) == 0, 60,
                       message=lambda: f"no pending rows: {counts(engine)}\n{worker.log()[-2000:]}")
            wait_until(lambda: counts(engine).get("sending", 0) == at_kill["sending"], 30,
                       message=lambda: f"only the dead worker's rows sending: {counts(engine)}")
            # … until the reaper (beat, every minute) finds them stale.
            wait_until(lambda: (worker.send("outbox.reap"), counts(engine).get("sending", 0) == 0)[1],
                       STALE_SECONDS + 20, interval=1.0, message=lambda: f"reaped: {counts(engine)}")
        finally:
            worker.stop()
    final = counts(engine)
    by_state = ids_by_state(engine)
    received = Counter(sink.message_ids())
    unknown = by_state.get("unknown", set())
    delivered_in_doubt = sum(1 for mid in unknown if mid in received)
    with capsys.disabled():
        print(f"\n[kill -9] at kill: {at_kill}, received {received_at_kill}; final: {final}; "
              f"unknown rows the server did get: {delivered_in_doubt}/{len(unknown)}")

    assert final.get("sent", 0) + final.get("unknown", 0) == N
    assert set(final) <= {"sent", "unknown"}
    assert not [mid for mid, n in received.items() if n > 1], "a Message-ID reached the server twice"
    assert all(received[mid] == 1 for mid in by_state["sent"]), "every sent row was delivered once"
    assert set(received) <= by_state["sent"] | unknown
    # Only what the dead worker had claimed is in doubt: at most one round per relay.
    assert 0 < len(unknown) <= 2 * batch
    engine.dispose()
