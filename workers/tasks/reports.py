"""`reports.weekly` — the weekly summary's delivery.

Beat fires it every day at `Settings.report_send_at` (08:00 local by default);
the task asks the clock which weeks are due (shared/reports/schedule.py): on an
ordinary Monday last week, on a Monday that is a holiday nothing until the first
working day, and a day that was missed is caught up at the next beat.  So one
daily beat is enough, and firing it more often (or twice by mistake) only costs
a query: a delivered week is skipped, and every message's dedup key is unique.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.clock import Clock, FrozenClock, SystemClock
from shared.db import session_scope
from shared.reports import delivery
from shared.settings import get_settings
from workers.app import app
from workers.schedule import WEEKLY_REPORT


@app.task(name=WEEKLY_REPORT, time_limit=900)
def weekly_report(now: str | None = None) -> dict[str, Any]:
    """Deliver the due weekly reports; NOW (ISO-8601 with offset) replays a given moment."""
    clock: Clock = FrozenClock(datetime.fromisoformat(now)) if now else SystemClock()
    with session_scope() as session:  # commits on success; the after-commit hook kicks the relay
        run = delivery.run_scheduled(session, now=clock.now(), settings=get_settings())
    return run.as_dict()
