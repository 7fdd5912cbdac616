"""An admin decides about mail in doubt: list by state, resend (same Message-ID) or discard — CLI and API."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine

import shared.db
from services.cli import app as cli_app
from shared.clock import FrozenClock
from shared.db import session_scope
from shared.events.models import Event
from shared.outbox import relay
from shared.outbox.models import OutboxState
from shared.outbox.smtp import SmtpConfig, message_id
from tests.celery_harness import REPO, SmtpSink, redis_test_url, worker_env
from tests.conftest import _truncate_all
from tests.relay_kicks import counting_kicks
from tests.test_outbox_relay import FAST, put, rows, states


def in_doubt(engine: Engine, clock: FrozenClock) -> list[int]:
    """Five messages: 0 sent, 1–2 unknown (their worker died), 3 failed (550), 4 pending."""
    ids = put(engine, clock, 5)
    with SmtpSink() as sink:
        sink.always("liaison3@gov.example", "550 5.1.1 no such user")
        relay.run(engine, clock, smtp=SmtpConfig.from_url(sink.url),
                  policy=FAST.model_copy(update={"batch_size": 1, "run_seconds": 0.0}))  # one round: id 0
        relay.claim(engine, clock.now(), limit=2)  # ids 1, 2: claimed, then the worker died
        relay.run(engine, clock, smtp=SmtpConfig.from_url(sink.url),
                  policy=FAST.model_copy(update={"batch_size": 1, "run_seconds": 0.0}))  # id 3 → failed
    clock.advance(minutes=10)
    relay.reap(engine, clock, FAST)
    by_id = rows(engine)
    assert [by_id[i].state for i in ids] == ["sent", "unknown", "unknown", "failed", "pending"]
    return ids


# ------------------------------------------------------------------ CLI




def test_cli_lists_by_state_and_discards(cli, engine, clock):
    ids = in_doubt(engine, clock)
    r = cli.invoke(cli_app, ["outbox", "list"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "pending 1  sending 0  sent 1  failed 1  unknown 2  discarded 0"
    r = cli.invoke(cli_app, ["outbox", "list", "--state", "unknown"])
    listed = [line.split()[0] for line in r.output.splitlines()[1:]]
    assert listed == [str(ids[2]), str(ids[1])]
    assert "worker stopped while sending" in r.output

    r = cli.invoke(cli_app, ["outbox", "discard", str(ids[1]), str(ids[0])])
    assert r.exit_code == 1  # a sent message cannot be discarded …
    assert "invalid_transition" in r.output
    assert rows(engine)[ids[1]].state == OutboxState.DISCARDED  # … the other one was
    r = cli.invoke(cli_app, ["outbox", "discard", "--state", "failed"])
    assert r.exit_code == 0 and "1 message(s) discarded" in r.output
    assert states(engine) == {"sent": 1, "unknown": 1, "pending": 1, "discarded": 2}


def test_cli_retry_puts_it_back_and_kicks_a_worker_through_redis(postgres_database, tmp_path):
    """Run as an admin would, in its own process, with Redis as the broker."""
    broker = redis_test_url(db=14)
    engine = shared.db.make_engine(postgres_database)
    try:
        _truncate_all(engine)
        clock = FrozenClock(datetime.now(UTC))
        ids = in_doubt(engine, clock)
        queue = redis.Redis.from_url(broker)
        before = queue.llen("gongzhi")
        env = worker_env(database_url=postgres_database, broker_url=broker, smtp_url="smtp://127.0.0.1:9",
                         data_dir=tmp_path)
        result = subprocess.run(
            [sys.executable, "-c", "from services.cli import main; main()", "outbox", "retry", "--state", "unknown"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "2 message(s) back to pending" in result.stdout and "relay kicked" in result.stdout
        by_id = rows(engine)
        assert [by_id[i].state for i in ids[1:3]] == ["pending", "pending"]
        assert [by_id[i].attempts for i in ids[1:3]] == [0, 0]
        # The kick is a real Celery message for outbox.relay on the broker.
        assert queue.llen("gongzhi") == before + 1
        raw = queue.lpop("gongzhi")
        assert raw is not None and json.loads(raw)["headers"]["task"] == "outbox.relay"
        with session_scope(engine) as s:
            actions = list(s.scalars(select(Event.action).where(Event.object_type == "outbox_message")))  # type: ignore[arg-type]
        assert actions == ["outbox.retry", "outbox.retry"]
    finally:
        engine.dispose()


# ------------------------------------------------------------------ API


@pytest.fixture
def kicks(app) -> list[int]:  # type: ignore[no-untyped-def]
    with counting_kicks() as calls:
        yield calls


def test_api_admin_sees_unknown_and_resends_with_the_same_message_id(api, world, engine, clock, kicks):
    ids = in_doubt(engine, clock)
    kicks.clear()  # queueing the five messages kicked too; count from here
    admin = api.as_user(world.admin)
    r = admin.get("/api/v1/admin/outbox", params={"state": "unknown"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["counts"] == {"pending": 1, "sending": 0, "sent": 1, "failed": 1, "unknown": 2, "discarded": 0}
    assert [m["id"] for m in body["items"]] == [ids[2], ids[1]]
    first = body["items"][1]
    assert first["message_id"] == message_id(ids[1], rows(engine)[ids[1]].dedup_key)
    assert "worker stopped" in first["last_error"]

    r = admin.post(f"/api/v1/admin/outbox/{ids[1]}/retry")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["attempts"]) == ("pending", 0)
    assert kicks == [1]  # after the commit, a worker is asked to deliver

    with SmtpSink() as sink:
        relay.run(engine, clock, smtp=SmtpConfig.from_url(sink.url), policy=FAST)
    assert sink.message_ids() == [first["message_id"], message_id(ids[4], rows(engine)[ids[4]].dedup_key)]
    assert admin.get(f"/api/v1/admin/outbox/{ids[1]}").json()["state"] == "sent"


def test_api_discard_and_refusals(api, world, engine, clock, kicks):
    ids = in_doubt(engine, clock)
    kicks.clear()
    admin = api.as_user(world.admin)
    r = admin.post(f"/api/v1/admin/outbox/{ids[2]}/discard")
    assert (r.status_code, r.json()["state"]) == (200, "discarded")

    r = admin.post(f"/api/v1/admin/outbox/{ids[0]}/retry")  # already sent: never again
    assert r.status_code == 409
    assert r.json()["error"]["current"] == "sent" and r.json()["error"]["allowed"] == []
    r = admin.post(f"/api/v1/admin/outbox/{ids[4]}/retry")  # pending: may only be discarded
    assert r.status_code == 409 and r.json()["error"]["allowed"] == ["discard"]
    assert admin.post("/api/v1/admin/outbox/999999/retry").status_code == 404
    assert kicks == []

    for user in (world.coordinator, world.leader, world.liaison("XFXH")):
        client = api.as_user(user)
        assert client.get("/api/v1/admin/outbox").status_code == 403
        assert client.post(f"/api/v1/admin/outbox/{ids[3]}/retry").status_code == 403
    assert rows(engine)[ids[3]].state == OutboxState.FAILED


def test_api_pages_through_a_large_outbox(api, world, engine, clock):
    ids = put(engine, clock, 7)
    admin = api.as_user(world.admin)
    first = admin.get("/api/v1/admin/outbox", params={"limit": 4}).json()
    assert [m["id"] for m in first["items"]] == ids[::-1][:4]
    second = admin.get("/api/v1/admin/outbox", params={"limit": 4, "before_id": first["next_before_id"]}).json()
    assert [m["id"] for m in second["items"]] == ids[::-1][4:]
    assert second["next_before_id"] is None
