"""`idempotency.sweep`: forget Idempotency-Key answers older than 24 hours."""

from __future__ import annotations

from shared.clock import SystemClock
from shared.db import session_scope
from shared.idempotency import service
from workers.app import app
from workers.schedule import IDEMPOTENCY_SWEEP


@app.task(name=IDEMPOTENCY_SWEEP, time_limit=300)
def sweep_idempotency_keys() -> int:
    """Expired rows are already ignored; this only keeps the table small.  Safe to run twice."""
    with session_scope() as session:
        return service.sweep(session, SystemClock().now())
