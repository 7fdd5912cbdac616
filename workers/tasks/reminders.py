"""`reminders.pass` — beat runs it every ten minutes; it decides itself whether it is working time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.clock import Clock, FrozenClock, SystemClock
from shared.db import session_scope
from shared.reminders import service as reminders
from workers.app import app
from workers.schedule import REMINDER_PASS


@app.task(name=REMINDER_PASS, time_limit=600)
def reminder_pass(now: str | None = None) -> dict[str, Any]:
    """One reminder pass; NOW (ISO-8601 with offset) replays a given moment, for tests and catch-up."""
    clock: Clock = FrozenClock(datetime.fromisoformat(now)) if now else SystemClock()
    with session_scope() as session:  # commits on success; the after-commit hook kicks the relay
        result = reminders.run_pass(session, clock)
    return result.as_dict()
