"""Reads of cases: the scoped list with filters and keyset pagination (API and pages)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlmodel import Session, col

from shared.assignments.queries import escape_like
from shared.cases.models import Case, CaseSource, CaseStatus
from shared.pagination import after_cursor, encode_cursor
from shared.scope import case_visible
from shared.users.models import User


@dataclass
class CaseFilter:
    status: CaseStatus | None = None
    campaign_id: int | None = None
    category: str | None = None
    source: CaseSource | None = None
    lead_department_id: int | None = None
    typical: bool | None = None
    q: str | None = None


def list_cases(session: Session, actor: User, f: CaseFilter, *, cursor: str | None = None,
               limit: int = 50) -> tuple[list[Case], str | None]:
    """Cases the actor can see, newest first."""
    stmt = select(Case).where(case_visible(actor))
    if f.status:
        stmt = stmt.where(col(Case.status) == f.status)
    if f.campaign_id is not None:
        stmt = stmt.where(col(Case.campaign_id) == f.campaign_id)
    if f.category:
        stmt = stmt.where(col(Case.category) == f.category)
    if f.source:
        stmt = stmt.where(col(Case.source) == f.source)
    if f.lead_department_id is not None:
        stmt = stmt.where(col(Case.lead_department_id) == f.lead_department_id)
    if f.typical is not None:
        stmt = stmt.where(col(Case.is_typical).is_(f.typical))
    if f.q:
        pattern = f"%{escape_like(f.q)}%"
        stmt = stmt.where(or_(col(Case.title).ilike(pattern, escape="\\"),
                              col(Case.enterprise_name).ilike(pattern, escape="\\")))
    if cursor:
        stmt = stmt.where(after_cursor(Case.created_at, Case.id, cursor, descending=True))
    rows = list(session.scalars(stmt.order_by(col(Case.created_at).desc(), col(Case.id).desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.created_at, last.id)  # type: ignore[arg-type]
    return rows[:limit], next_cursor
