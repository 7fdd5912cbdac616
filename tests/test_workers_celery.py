"""The Celery application: settings, schedule, and a real worker delivering mail on Redis and on the embedded broker."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from celery.schedules import crontab

import shared.models
from shared.clock import FrozenClock
from shared.db import make_engine
from shared.outbox.smtp import message_id
from shared.settings import Settings
from tests.celery_harness import CeleryWorker, SmtpSink, free_port, redis_test_url, wait_until
from tests.conftest import _truncate_all
from tests.test_outbox_relay import put, rows, states
from workers.app import app, kick_relay, make_app
from workers.schedule import beat_schedule


def test_delivery_guarantees_are_configured():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_ignore_result and not conf.result_backend
    assert conf.broker_connection_max_retries is None  # waits for the broker, never gives up
    assert conf.timezone == "Asia/Shanghai"
    assert "workers.tasks.outbox" in conf.imports


def test_broker_defaults_to_the_embedded_sqlite_file(tmp_path):
    embedded = make_app(Settings(demo=True, data_dir=tmp_path))
    assert embedded.conf.broker_url == f"sqla+sqlite:///{(tmp_path / 'broker.db').resolve()}"
    on_redis = make_app(Settings(demo=True, data_dir=tmp_path, broker_url="redis://redis:6379/0"))
    assert on_redis.conf.broker_url == "redis://redis:6379/0"
    assert on_redis.conf.broker_transport_options["socket_connect_timeout"] == 3


def test_one_schedule_with_stable_task_names():
    schedule = beat_schedule()
    assert {k: v["task"] for k, v in schedule.items()}.items() >= {
        "reminder-pass": "reminders.pass", "outbox-relay": "outbox.relay", "outbox-reap": "outbox.reap",
    }.items()
    assert schedule["reminder-pass"]["schedule"] == crontab(minute="*/10")
    assert schedule["outbox-relay"]["schedule"] == 15.0 and schedule["outbox-reap"]["schedule"] == 60.0
    for entry in schedule.values():  # nothing piles up while workers are down
        assert entry["options"]["expires"] <= 6 * 3600
    app.loader.import_default_modules()  # what a worker does with conf.imports at start
    assert {"outbox.relay", "outbox.reap"} <= set(app.tasks.keys())


def test_sweep_removes_abandoned_uploads_and_keeps_live_ones(tmp_path, monkeypatch):
    """A crashed upload leaves a staging file; the hourly sweep removes it, never one in progress."""
    import os

    from shared.settings import get_settings
    from workers.tasks.attachments import sweep_staging

    assert beat_schedule()["attachments-sweep"]["task"] == "attachments.sweep"
    monkeypatch.setenv("GONGZHI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        staging = get_settings().upload_dir / ".staging"
        staging.mkdir(parents=True)
        abandoned, live = staging / "upload-old.part", staging / "upload-new.part"
        abandoned.write_bytes(b"half a photo")
        live.write_bytes(b"arriving now")
        two_hours_ago = time.time() - 7200
        os.utime(abandoned, (two_hours_ago, two_hours_ago))
        assert sweep_staging.run() == 1
        assert not abandoned.exists() and live.exists()
    finally:
        get_settings.cache_clear()


def test_a_kick_with_the_broker_down_fails_fast_and_quietly(tmp_path):
    nowhere = make_app(Settings(demo=True, data_dir=tmp_path, broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    started = time.monotonic()
    assert kick_relay(nowhere) is False
    assert time.monotonic() - started < 5


def test_worker_on_redis_relays_after_a_kick(postgres_database, tmp_path):
    engine = make_engine(postgres_database)
    _truncate_all(engine)
    clock = FrozenClock(datetime.now(UTC))
    ids = put(engine, clock, 5)
    with SmtpSink() as sink, CeleryWorker(database_url=postgres_database, broker_url=redis_test_url(db=14),
                                          smtp_url=sink.url, data_dir=tmp_path) as worker:
        assert worker.kick_relay() is True
        sink.wait_for(5, timeout=30)
        wait_until(lambda: states(engine) == {"sent": 5}, 10, message=lambda: f"sent rows\n{worker.log()}")
    by_id = rows(engine)
    assert sorted(sink.message_ids()) == sorted(message_id(i, by_id[i].dedup_key) for i in ids)
    engine.dispose()


def test_make_run_path_sqlite_database_and_embedded_broker(tmp_path: Path):
    """No server at all: SQLite database, kombu's SQL transport in a SQLite file, a local SMTP sink."""
    url = f"sqlite:///{tmp_path / 'gongzhi.db'}"
    engine = make_engine(url)
    shared.models.metadata.create_all(engine)
    clock = FrozenClock(datetime.now(UTC))
    put(engine, clock, 3)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    with SmtpSink() as sink, CeleryWorker(database_url=url, broker_url=broker, smtp_url=sink.url,
                                          data_dir=tmp_path) as worker:
        assert worker.kick_relay() is True
        sink.wait_for(3, timeout=30)
        wait_until(lambda: states(engine) == {"sent": 3}, 10, message=lambda: f"sent rows\n{worker.log()}")
        worker.send("outbox.reap")
        wait_until(lambda: "outbox.reap" in worker.log() and "succeeded" in worker.log().split("outbox.reap")[-1],
                   20, message=lambda: f"reap task\n{worker.log()}")
    engine.dispose()
