"""The outbox: every message to a person is a row written in the caller's transaction.

Workers deliver the rows later (the relay, shared/outbox/relay.py).  The dedup
key is built by the caller from stable ids and the local date; the unique index
does the deduplication, so a second enqueue of the same key is a silent no-op.

Waking the relay: a transaction that queued mail is marked on its session
(``mark_enqueued``); the after-commit hook that each entry point installs with
``install_relay_kick(kick)`` asks a worker to deliver once that transaction has
committed, and never for one that rolled back.  The domain never imports the
workers: the entry point hands in the kick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from shared.db import install_after_commit
from shared.outbox.models import OutboxAttachment, OutboxMessage, OutboxState
from shared.outbox.smtp import MailAttachment


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
    attachments: Sequence[MailAttachment] = (),
) -> bool:
    """Insert the message unless its key exists; True when a row was written.

    Attachments are written with the message, in the same statement's
    transaction, only when the message itself was new.
    """
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
        "attachment_count": len(attachments),
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
    row = session.execute(stmt).first()
    if row is None:
        return False
    if attachments:
        session.execute(OutboxAttachment.__table__.insert(), [  # type: ignore[attr-defined]
            {"message_id": row[0], "position": i, "filename": a.filename, "content_type": a.content_type,
             "content": a.content}
            for i, a in enumerate(attachments)
        ])
    mark_enqueued(session)
    return True


@dataclass(frozen=True)
class NewMessage:
    """One row for ``enqueue_many``: the same fields as ``enqueue``'s keywords."""

    key: str
    kind: str
    to_address: str
    subject: str
    body_text: str
    body_html: str
    recipient_user_id: int | None = None


# Rows per INSERT: 11 parameters a row stays far below SQLite's and psycopg's limits.
_MANY_CHUNK = 500


def enqueue_many(session: Session, rows: Sequence[NewMessage], now: datetime) -> set[str]:
    """``enqueue`` for many messages: multi-row INSERT … ON CONFLICT DO NOTHING RETURNING.

    Returns the keys actually inserted (an existing key is a silent no-op, as in
    ``enqueue``).  Rows go in the caller's order (the outbox ids follow it); two
    transactions that may insert the same keys at once must pass them in the
    same order, so they take the unique index's locks alike and cannot deadlock.
    """
    unique = list({r.key: r for r in rows}.items())
    if not unique:
        return set()
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted: set[str] = set()
    for start in range(0, len(unique), _MANY_CHUNK):
        values = [
            {"dedup_key": key, "kind": r.kind, "attachment_count": 0, "recipient_user_id": r.recipient_user_id,
             "to_address": r.to_address, "subject": r.subject, "body_text": r.body_text,
             "body_html": r.body_html, "state": OutboxState.PENDING.value, "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for key, r in unique[start : start + _MANY_CHUNK]
        ]
        stmt = (insert(table).values(values).on_conflict_do_nothing(index_elements=["dedup_key"])
                .returning(table.c.dedup_key))
        inserted.update(session.execute(stmt).scalars())
    if inserted:
        mark_enqueued(session)
    return inserted


_ENQUEUED = "gongzhi.outbox_enqueued"


RELAY_KICK = "outbox.relay_kick"


def mark_enqueued(session: Session) -> None:
    """This transaction put mail in the queue (new rows, or rows an admin sent back to pending)."""
    session.info[_ENQUEUED] = True


def take_enqueued(session: Session) -> bool:
    """Whether this transaction queued mail; clears the mark (a caller that delivers itself takes it)."""
    return bool(session.info.pop(_ENQUEUED, False))


def install_relay_kick(kick: Callable[[], object]) -> None:
    """After each commit that queued mail, call KICK once (entry points pass the worker's kick)."""

    def kick_if_enqueued(session: Session) -> None:
        if take_enqueued(session):
            kick()

    install_after_commit(RELAY_KICK, kick_if_enqueued, clears=_ENQUEUED)  # type: ignore[arg-type]
