"""The timeline and audit trail: one append-only row per change, in the caller's transaction.

Every department of a case reads its timeline, so only changes go here; reads
of personal data go to the admins' audit log (shared/audit).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import BindParameter, Integer, Select, and_, bindparam, or_, select
from sqlmodel import Session, col

from shared.clock import Clock
from shared.errors import Invalid
from shared.events.models import Event
from shared.pagination import decode_cursor, encode_cursor
from shared.users.models import User


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Session,
    clock: Clock,
    actor: User | None,
    object_type: str,
    object_id: int | None,
    action: str,
    *,
    case_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        at=clock.now(),
        actor_id=actor.id if actor else None,
        object_type=object_type,
        object_id=object_id or 0,
        case_id=case_id,
        action=action,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    session.add(event)
    return event


def diff(obj: Any, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Before/after of only the fields that really change."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(obj, name)
        if old != value:
            before[name] = old
            after[name] = value
    return before, after


@lru_cache(maxsize=2)
def _timeline_page(older: bool) -> Select[Event]:
    """A case's events newest first, from before (AT, LAST_ID) when OLDER; built once (every case page asks)."""
    stmt = select(Event).where(col(Event.case_id) == bindparam("case_id"))
    if older:
        at: BindParameter[datetime] = bindparam("at")
        stmt = stmt.where(or_(col(Event.at) < at, and_(col(Event.at) == at, col(Event.id) < bindparam("last_id"))))
    return stmt.order_by(col(Event.at).desc(), col(Event.id).desc()).limit(bindparam("limit", type_=Integer))


def timeline(session: Session, case_id: int, *, before: str | None = None,
             limit: int = 100) -> tuple[list[Event], str | None]:
    """A case's timeline, newest first, LIMIT at a time.

    BEFORE is the cursor the previous page returned (its oldest row); the
    returned cursor pages further back, and is None once the oldest is shown.
    """
    params: dict[str, Any] = {"case_id": case_id, "limit": limit + 1}
    if before:
        at, last_id = decode_cursor(before)
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise Invalid("cursor", "field_invalid")
        params.update(at=at, last_id=last_id)
    rows = list(session.scalars(_timeline_page(bool(before)), params))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].at, rows[-1].id)  # type: ignore[arg-type]
