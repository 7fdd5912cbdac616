"""Relays running at the same time (several workers, beat and a kick together) send every message once."""

from __future__ import annotations

import threading

from shared.outbox import relay
from shared.outbox.smtp import SmtpConfig
from tests.celery_harness import SmtpSink
from tests.test_outbox_relay import put, states

N = 600


def test_concurrent_relays_send_each_message_exactly_once(engine, clock):
    put(engine, clock, N)
    relays = 4 if engine.dialect.name == "postgresql" else 2
    policy = relay.RelayPolicy(batch_size=10)  # small rounds: the relays interleave a lot
    reports: list[relay.RelayReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(relays)

    with SmtpSink() as sink:
        config = SmtpConfig.from_url(sink.url)

        def work() -> None:
            try:
                start.wait()
                reports.append(relay.run(engine, clock, smtp=config, policy=policy))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(relays)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

    assert not errors
    assert sum(r.sent for r in reports) == N
    assert sum(1 for r in reports if r.sent) >= 2, "the relays should have shared the work"
    assert len(sink.messages) == N and not sink.duplicates()
    assert states(engine) == {"sent": N}
