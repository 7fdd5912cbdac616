"""The one beat schedule.  Run exactly one beat process (compose: `beat`, replicas 1).

Every scheduled task is idempotent, so a beat restarted or, by mistake, run twice
sends no extra mail; it only wastes a little work.  Each entry expires before
its next slot, so a worker that was down does not face a pile of stale runs.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from celery.schedules import crontab

from shared.settings import Settings, get_settings

REMINDER_PASS = "reminders.pass"
OUTBOX_RELAY = "outbox.relay"
OUTBOX_REAP = "outbox.reap"
WEEKLY_REPORT = "reports.weekly"
ATTACHMENTS_SWEEP = "attachments.sweep"
IDEMPOTENCY_SWEEP = "idempotency.sweep"
SEARCH_CLUSTER = "search.cluster"

RELAY_EVERY_SECONDS = 15.0
REAP_EVERY_SECONDS = 60.0


def beat_schedule(settings: Settings | None = None) -> dict[str, dict[str, Any]]:
    settings = settings or get_settings()
    schedule: dict[str, dict[str, Any]] = {
        # Every 10 minutes round the clock: the pass itself knows working days,
        # working hours and holidays, and does nothing outside them.
        "reminder-pass": {
            "task": REMINDER_PASS,
            "schedule": crontab(minute="*/10"),
            "options": {"expires": 9 * 60},
        },
        # Callers also kick the relay right after they commit; this is the safety net.
        "outbox-relay": {
            "task": OUTBOX_RELAY,
            "schedule": RELAY_EVERY_SECONDS,
            "options": {"expires": RELAY_EVERY_SECONDS},
        },
        "outbox-reap": {
            "task": OUTBOX_REAP,
            "schedule": REAP_EVERY_SECONDS,
            "options": {"expires": REAP_EVERY_SECONDS},
        },
        "attachments-sweep": {
            "task": ATTACHMENTS_SWEEP,
            "schedule": crontab(minute=17),
            "options": {"expires": 3000},
        },
        "idempotency-sweep": {
            "task": IDEMPOTENCY_SWEEP,
            "schedule": crontab(minute=41),
            "options": {"expires": 3000},
        },
        # At night, local time: the rewrite holds the search table for a few seconds.
        "search-cluster": {
            "task": SEARCH_CLUSTER,
            "schedule": crontab(minute=23, hour=3),
            "options": {"expires": 3 * 3600},
        },
    }
    # The weekly summary joins the schedule once its task module exists
    # (workers/tasks/reports.py registering "reports.weekly").  Every day at the
    # send time (local, the app's time zone): the task itself knows which day
    # is the first working day of the week.
    if find_spec("workers.tasks.reports") is not None:
        send_at = settings.report_send_at
        schedule["weekly-report"] = {
            "task": WEEKLY_REPORT,
            "schedule": crontab(minute=send_at.minute, hour=send_at.hour),
            "options": {"expires": 6 * 3600},
        }
    return schedule
