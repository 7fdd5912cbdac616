"""The Celery application shared by `gongzhi worker`, `gongzhi beat` and the code that kicks tasks.

Broker: `GONGZHI_BROKER_URL` — Redis in production; by default kombu's SQLAlchemy
transport over a SQLite file in the data directory, so `make run` needs no server.

Delivery guarantees come from the database, not the broker: tasks carry no
payload that matters (the outbox rows and the assignments say what is due), so a
task lost with a Redis restart is simply run again by beat.  Tasks acknowledge
late and are re-queued if their worker dies; each is idempotent.
"""

from __future__ import annotations

import logging
import pkgutil
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init

from shared.db import dispose_engines
from shared.outbox.service import install_relay_kick
from shared.settings import Settings, get_settings
from workers import schedule, tasks

QUEUE = "gongzhi"


log = logging.getLogger("gongzhi.outbox")


def task_modules() -> list[str]:
    """Every module in workers/tasks is a task module (reminders, outbox, reports …)."""
    return [f"{tasks.__name__}.{info.name}" for info in sorted(pkgutil.iter_modules(tasks.__path__),
                                                                 key=lambda i: i.name)]


def celery_config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a worker waits for Redis forever, then resumes
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,  # outcomes live in the database, not in a result backend
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Keep a running relay going when the broker blips: killing it mid-send
        # would only turn delivered mail into "unknown".
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_default_queue": QUEUE,
        "timezone": settings.timezone,
        "enable_utc": True,
        "imports": task_modules(),
        "beat_schedule": schedule.beat_schedule(settings),
        "beat_schedule_filename": str(settings.data_dir / "celerybeat-schedule"),
        "worker_send_task_events": False,
    }
    if settings.broker_url.startswith(("redis://", "rediss://")):
        # Fail fast when Redis is away (a kick from a request must not hang);
        # health checks notice a half-dead connection after a Redis restart.
        # An unacknowledged task is redelivered after the visibility timeout, so
        # it must exceed the longest task time limit (15 min) — and no task uses
        # an ETA or countdown anywhere near it.
        config["broker_transport_options"] = {
            "socket_connect_timeout": 3,
            "health_check_interval": 10,
            "visibility_timeout": 3600,
        }
    return config


def _survive_redis_restarts() -> None:
    """Work around kombu 5.7 crashing the worker when Redis goes away under a late-acked task.

    On a lost connection Celery first `collect()`s the connection (which
    detaches the transport) and then `close()`s it; the second close runs the
    Redis channel's close again, which tries to restore the unacknowledged
    task to a transport that no longer exists and raises AttributeError — not
    a connection error, so the consumer dies with "Unrecoverable error"
    instead of reconnecting.  Nothing is left to restore at that point (Redis
    keeps the unacked task and redelivers it after the visibility timeout),
    so the second close is made a no-op.  tests/faults/test_fault_redis_restart.py
    shows the worker carrying on.
    """
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.Channel.close
    if getattr(original, "_gongzhi_patched", False):
        return

    def close(channel: Any) -> None:
        if getattr(channel.connection, "client", None) is None:
            return  # the transport was already collected: nothing to close or restore
        original(channel)

    close._gongzhi_patched = True  # type: ignore[attr-defined]
    kombu_redis.Channel.close = close  # type: ignore[method-assign]


def make_app(settings: Settings | None = None) -> Celery:
    celery = Celery("gongzhi")
    celery.conf.update(celery_config(settings or get_settings()))
    return celery


app = make_app()
_survive_redis_restarts()


@worker_process_init.connect
def _fresh_engines(**_: Any) -> None:
    """A forked pool process must not share the parent's database connections."""
    dispose_engines()


@worker_init.connect
def _kick_relay_after_commit(**_: Any) -> None:
    """A worker is an entry point: a task that queues mail (a reminder pass) wakes the relay.

    Installed in the main process before the pool forks, so every pool process has it.
    """
    install_relay_kick(kick_relay)


def kick_relay(celery: Celery | None = None) -> bool:
    """Queue a relay run now; False (logged) when the broker cannot be reached.

    Entry points install it as the after-commit kick (install_relay_kick), so it
    runs once the transaction that wrote outbox rows has committed.  It never
    raises, so a request does not fail because Redis is down — beat relays
    within 15 seconds anyway.  `celery` is another client app (tests).
    """
    try:
        (celery or app).send_task(
            schedule.OUTBOX_RELAY,
            expires=60,
            retry=True,  # one quick reconnect covers a pooled connection made stale by a broker restart
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception as exc:  # noqa: BLE001 - any broker trouble: log it, beat will relay
        log.warning("outbox: could not kick the relay (%s: %s); beat will deliver",
                    exc.__class__.__name__, exc)
        return False
    return True
