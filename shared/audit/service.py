"""The audit log of personal-data reads: written where the read happens, queried by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from shared.audit.models import AuditEntry
from shared.clock import Clock
from shared.errors import Invalid
from shared.pagination import decode_cursor, encode_cursor
from shared.scope import require_role
from shared.users.models import Role, User

PERSONAL_DATA_READ = "personal_data_read"


def record(session: Session, clock: Clock, actor: User, action: str, *, case_id: int | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """One audit row in the caller's transaction (the boundary that commits the read commits it).

    Written at once as a plain INSERT: nothing reads the row back in the request, and the ORM's
    unit of work for it cost the case page more than its heaviest query."""
    session.execute(_INSERT, {"at": clock.now(), "actor_id": actor.id, "action": action, "case_id": case_id,
                              "detail": detail})


_INSERT = insert(AuditEntry.__table__)  # type: ignore[attr-defined]  # built once: every unmasked read writes one


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    case_id: int | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def search(session: Session, actor: User, f: AuditFilter, *, cursor: str | None = None,
           limit: int = 100) -> tuple[list[AuditEntry], str | None]:
    """Newest first, keyset-paged by id (rows are only ever appended); admins only."""
    require_role(actor, Role.ADMIN)
    stmt = select(AuditEntry)
    if f.user_id is not None:
        stmt = stmt.where(col(AuditEntry.actor_id) == f.user_id)
    if f.case_id is not None:
        stmt = stmt.where(col(AuditEntry.case_id) == f.case_id)
    if f.action:
        stmt = stmt.where(col(AuditEntry.action) == f.action)
    if f.since is not None:
        stmt = stmt.where(col(AuditEntry.at) >= f.since)
    if f.until is not None:
        stmt = stmt.where(col(AuditEntry.at) < f.until)
    if cursor:
        kind, last_id = decode_cursor(cursor)
        if kind != "audit":
            raise Invalid("cursor", "field_invalid")
        stmt = stmt.where(col(AuditEntry.id) < last_id)
    rows = list(session.scalars(stmt.order_by(col(AuditEntry.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor("audit", rows[-1].id) if more and rows else None  # type: ignore[arg-type]
