"""Small helpers shared by the fault tests."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.engine import Engine

from shared.db import session_scope
from shared.outbox.models import OutboxMessage
from shared.outbox.smtp import message_id


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        rows = s.execute(select(OutboxMessage.state, OutboxMessage.id)).all()  # type: ignore[call-overload]
    return dict(Counter(str(state) for state, _ in rows))


def ids_by_state(engine: Engine) -> dict[str, set[str]]:
    """Message-IDs of the rows in each state."""
    with session_scope(engine) as s:
        rows = s.execute(
            select(OutboxMessage.id, OutboxMessage.dedup_key, OutboxMessage.state)  # type: ignore[call-overload]
        ).all()
    found: dict[str, set[str]] = {}
    for row_id, key, state in rows:
        found.setdefault(str(state), set()).add(message_id(row_id, key))
    return found


class Ticker:
    """Calls `tick` every `every` seconds in a thread — beat, compressed in time."""

    def __init__(self, tick: Callable[[], object], every: float) -> None:
        self.tick, self.every = tick, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(10)
