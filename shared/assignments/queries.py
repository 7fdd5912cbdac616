"""Reads of assignments: lists with filters and keyset pagination, and the department queue.

Every read is scoped (shared.scope.case_visible) and done in a constant number
of statements, whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from shared.assignments import rules
from shared.assignments.models import ACTIVE_STATES, OPEN_STATES, Assignment, AssignmentState
from shared.assignments.schemas import AssignmentPublic, QueueCounts
from shared.calendar.service import working_calendar
from shared.cases.models import Case
from shared.errors import Forbidden, Invalid
from shared.pagination import after_cursor, encode_cursor
from shared.scope import DEPARTMENT_ROLES, case_visible
from shared.users.models import User

SORTS: dict[str, tuple[Any, bool]] = {
    "feedback_due_at": (Assignment.feedback_due_at, False),
    "-feedback_due_at": (Assignment.feedback_due_at, True),
    "dispatched_at": (Assignment.dispatched_at, False),
    "-dispatched_at": (Assignment.dispatched_at, True),
    "-updated_at": (Assignment.updated_at, True),
}


def allowed_actions(a: Assignment) -> list[str]:
    return _allowed(AssignmentState(a.state), a.return_count)


def _allowed(state: AssignmentState, return_count: int) -> list[str]:
    actions = rules.allowed_actions(state)
    if return_count >= rules.RETURNS_BEFORE_DECISION:
        actions = [x for x in actions if x != rules.Action.RETURN.value]
    return actions


def to_public(a: Assignment, reference: str, title: str, now: datetime) -> AssignmentPublic:
    active = a.state in ACTIVE_STATES
    return AssignmentPublic(
        **a.model_dump(exclude={"case_reference", "case_title"}),
        case_reference=reference,
        case_title=title,
        extended=a.feedback_due_at != a.original_feedback_due_at,
        acceptance_overdue=a.state == AssignmentState.DISPATCHED and now > a.acceptance_due_at,
        feedback_overdue=active and now > a.feedback_due_at,
        allowed_actions=allowed_actions(a),
    )


_TABLE = Assignment.__table__  # type: ignore[attr-defined]
_COMPUTED = {"extended", "acceptance_overdue", "feedback_overdue", "allowed_actions"}
_PUBLIC_FROM_ROW = tuple(name for name in AssignmentPublic.model_fields if name not in _COMPUTED)
# Lists read plain columns, not ORM entities: building entities and validating each
# item twice was most of a queue request's CPU.
LIST_COLUMNS = (*_TABLE.c, col(Case.reference).label("case_reference"), col(Case.title).label("case_title"))


def public_from_row(row: Mapping[Any, Any], now: datetime) -> AssignmentPublic:
    """An item from a LIST_COLUMNS row; the values come from our own table, so no re-validation."""
    state = row["state"]
    return AssignmentPublic.model_construct(
        **{name: row[name] for name in _PUBLIC_FROM_ROW},
        extended=row["feedback_due_at"] != row["original_feedback_due_at"],
        acceptance_overdue=state == AssignmentState.DISPATCHED and now > row["acceptance_due_at"],
        feedback_overdue=state in ACTIVE_STATES and now > row["feedback_due_at"],
        allowed_actions=_allowed(state, row["return_count"]),
    )


def get_public(session: Session, a: Assignment, now: datetime) -> AssignmentPublic:
    reference, title = session.execute(
        select(col(Case.reference), col(Case.title)).where(col(Case.id) == a.case_id)
    ).one()
    return to_public(a, reference, title, now)


@dataclass
class AssignmentFilter:
    state: list[AssignmentState] | None = None
    department_id: int | None = None
    case_id: int | None = None
    inspection_id: int | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    campaign_id: int | None = None
    category: str | None = None
    source: str | None = None
    q: str | None = None
    needs_decision: bool | None = None


def list_assignments(
    session: Session, actor: User, now: datetime, f: AssignmentFilter, *,
    sort: str = "feedback_due_at", cursor: str | None = None, limit: int = 50,
) -> tuple[list[AssignmentPublic], str | None]:
    if sort not in SORTS:
        raise Invalid("sort", "field_not_allowed", allowed=", ".join(SORTS))
    column, descending = SORTS[sort]
    stmt = (
        select(*LIST_COLUMNS)
        .join(Case, Case.id == Assignment.case_id)  # type: ignore[arg-type]
        .where(case_visible(actor, Assignment.case_id))
    )
    if f.state:
        stmt = stmt.where(Assignment.state.in_(f.state))  # type: ignore[attr-defined]
    if f.department_id is not None:
        stmt = stmt.where(Assignment.department_id == f.department_id)  # type: ignore[arg-type]
    if f.case_id is not None:
        stmt = stmt.where(Assignment.case_id == f.case_id)  # type: ignore[arg-type]
    if f.inspection_id is not None:
        stmt = stmt.where(Assignment.inspection_id == f.inspection_id)  # type: ignore[arg-type]
    if f.overdue is not None:
        overdue = Assignment.state.in_(ACTIVE_STATES) & (Assignment.feedback_due_at < now)  # type: ignore[attr-defined,operator]
        stmt = stmt.where(overdue if f.overdue else ~overdue)
    if f.due_before is not None:
        stmt = stmt.where(Assignment.feedback_due_at < f.due_before)  # type: ignore[arg-type,operator]
    if f.campaign_id is not None:
        stmt = stmt.where(Case.campaign_id == f.campaign_id)  # type: ignore[arg-type]
    if f.category:
        stmt = stmt.where(Case.category == f.category)  # type: ignore[arg-type]
    if f.source:
        stmt = stmt.where(Case.source == f.source)  # type: ignore[arg-type]
    if f.needs_decision is not None:
        stmt = stmt.where(Assignment.needs_decision.is_(f.needs_decision))  # type: ignore[attr-defined]
    if f.q:
        pattern = f"%{escape_like(f.q)}%"
        stmt = stmt.where(or_(Case.title.ilike(pattern, escape="\\"),  # type: ignore[attr-defined]
                              Case.enterprise_name.ilike(pattern, escape="\\")))  # type: ignore[union-attr]
    if cursor:
        stmt = stmt.where(after_cursor(column, Assignment.id, cursor, descending))
    order = (column.desc(), Assignment.id.desc()) if descending else (column.asc(), Assignment.id.asc())  # type: ignore[union-attr,attr-defined]
    rows = session.execute(stmt.order_by(*order).limit(limit + 1)).mappings().all()
    items = [public_from_row(row, now) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last[column.key], last["id"])
    return items, next_cursor


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def due_soon_cutoff(session: Session, now: datetime) -> datetime:
    """The end of "due within two working days" (两个工作日内到期)."""
    return working_calendar(session).add_working_days(now, 2).at


def queue_department(actor: User, department_id: int | None) -> int:
    """Liaisons and heads see their own queue; coordinators, leaders and admins any."""
    if actor.role in DEPARTMENT_ROLES:
        if department_id not in (None, actor.department_id):
            raise Forbidden()
        return actor.department_id
    return department_id if department_id is not None else actor.department_id


def queue(
    session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50
) -> tuple[int, QueueCounts, list[AssignmentPublic]]:
    """The department's work: counts by bucket in one aggregate, then the most urgent items."""
    dept = queue_department(actor, department_id)
    soon = due_soon_cutoff(session, now)
    active = Assignment.state.in_(ACTIVE_STATES)  # type: ignore[attr-defined]
    due = Assignment.feedback_due_at

    def count_if(condition: Any) -> Any:
        return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)

    counts_row = session.execute(
        select(
            count_if(Assignment.state == AssignmentState.DISPATCHED),
            count_if(Assignment.state == AssignmentState.ACCEPTED),
            count_if(active & (due >= now) & (due <= soon)),  # type: ignore[operator]
            count_if(active & (due < now)),  # type: ignore[operator]
            count_if(Assignment.state == AssignmentState.SUBMITTED),
        ).where(Assignment.department_id == dept, Assignment.state.in_(OPEN_STATES))  # type: ignore[arg-type,attr-defined]
    ).one()
    counts = QueueCounts(
        to_accept=counts_row[0], in_progress=counts_row[1], due_soon=counts_row[2],
        overdue=counts_row[3], awaiting_review=counts_row[4],
    )
    rows = session.execute(
        select(*LIST_COLUMNS)
        .join(Case, Case.id == Assignment.case_id)  # type: ignore[arg-type]
        .where(Assignment.department_id == dept, active)  # type: ignore[arg-type]
        .order_by(due.asc(), Assignment.id.asc())  # type: ignore[attr-defined,union-attr]
        .limit(limit)
    ).mappings().all()
    return dept, counts, [public_from_row(row, now) for row in rows]
