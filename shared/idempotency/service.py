"""Idempotency keys: a creating request replayed with the same key creates nothing new.

The claim is a row inserted, under a unique (user_id, key) index, at the start
of the request's transaction, and completed with the answer just before that
transaction commits.  So:

- a retry after the commit finds the row and gets the first answer back;
- a retry while the first request is still running blocks on the unique index
  (PostgreSQL) until the first one commits, then finds its row; on SQLite every
  transaction is BEGIN IMMEDIATE, so the retry's transaction starts only after
  the first one ended;
- a first request that fails rolls its claim back with everything else, and
  the key is free again: nothing was created, so a retry may run.

Rows older than `TTL` are ignored, replaced when their key is used again, and
swept by the `idempotency.sweep` task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from shared.errors import Conflict, Invalid
from shared.idempotency.models import IdempotencyRecord

TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Request:
    user_id: int
    key: str
    method: str
    path: str
    fingerprint: str


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes


class Replay(Exception):  # noqa: N818 - not an error: the first answer, to be sent again
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status_code)
        self.answer = answer


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(33 <= ord(c) <= 126 for c in key)


def _find(session: Session, req: Request, now: datetime) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.user_id) == req.user_id,
            col(IdempotencyRecord.key) == req.key,
            col(IdempotencyRecord.created_at) > now - TTL,
        ).execution_options(populate_existing=True)
    ).first()


def _answer_or_refuse(record: IdempotencyRecord, req: Request) -> Replay:
    if (record.method, record.path, record.fingerprint) != (req.method, req.path, req.fingerprint):
        raise Invalid(HEADER, "idempotency_key_reused")
    if record.status_code is None:  # cannot be seen committed; defend the invariant anyway
        raise Conflict("conflict")
    return Replay(Answer(record.status_code, dict(record.headers), record.body))


def claim(session: Session, req: Request, now: datetime) -> IdempotencyRecord:
    """Claim the key in the session's transaction, or raise Replay with the first answer (422 if it differs)."""
    existing = _find(session, req, now)
    if existing is not None:
        raise _answer_or_refuse(existing, req)
    # An expired row for the same key would hold the unique index: it goes now.
    session.execute(delete(IdempotencyRecord).where(
        col(IdempotencyRecord.user_id) == req.user_id, col(IdempotencyRecord.key) == req.key,
        col(IdempotencyRecord.created_at) <= now - TTL,
    ))
    record = IdempotencyRecord(user_id=req.user_id, key=req.key, method=req.method, path=req.path,
                               fingerprint=req.fingerprint, created_at=now)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        # Another request with this key committed while we waited on the index.
        winner = _find(session, req, now)
        if winner is None:
            raise
        raise _answer_or_refuse(winner, req) from None
    return record


def complete(session: Session, record: IdempotencyRecord, answer: Answer) -> None:
    """Store the answer in the transaction of the change; the caller commits."""
    record.status_code, record.headers, record.body = answer.status_code, dict(answer.headers), answer.body
    session.add(record)
    session.flush()


def sweep(session: Session, now: datetime) -> int:
    """Delete rows past the TTL; returns how many."""
    result: Any = session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) <= now - TTL))
    return int(result.rowcount or 0)
