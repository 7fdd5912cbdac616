"""The outbox: every message to a person is a row written in the caller's transaction.

Workers deliver the rows later (see workers/tasks/outbox.py).  The dedup key is
built by the caller from stable ids and the local date; the unique index does
the deduplication, so a second enqueue of the same key is a silent no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from shared.outbox.models import OutboxMessage, OutboxState


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str,
    now: datetime,
    recipient_user_id: int | None = None,
) -> bool:
    """Insert the message unless its key exists; True when a row was written."""
    values = {
        "dedup_key": key,
        "kind": kind,
        "recipient_user_id": recipient_user_id,
        "to_address": to_address,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(table.c.id)
    )
    # RETURNING, not rowcount: with an implicit RETURNING psycopg reports rowcount -1.
    inserted = session.execute(stmt).first() is not None
    if inserted:
        mark_enqueued(session)
    return inserted


_ENQUEUED = "gongzhi.outbox_enqueued"


def mark_enqueued(session: Session) -> None:
    session.info[_ENQUEUED] = True


def take_enqueued(session: Session) -> bool:
    """Whether this session queued mail since it was last asked: kick the relay after commit only then."""
    return bool(session.info.pop(_ENQUEUED, False))
