"""Reads of assignments: lists with filters and keyset pagination (the queue: shared.assignments.queue).

Every read is scoped (shared.scope.case_visible) and done in a constant number
of statements, whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState, ExtensionRequest, ExtensionState
from shared.assignments.permissions import CaseFacts, available_actions
from shared.assignments.schemas import AssignmentPublic
from shared.calendar.service import working_calendar
from shared.cases.models import Case
from shared.cases.search_table import CaseSearch
from shared.db import read_columns
from shared.errors import Invalid
from shared.pagination import after_cursor, encode_cursor
from shared.scope import Reach, column_visible_by_reach, reach
from shared.settings import Settings, get_settings
from shared.users.models import User

SORTS: dict[str, tuple[Any, bool]] = {
    "feedback_due_at": (Assignment.feedback_due_at, False),
    "-feedback_due_at": (Assignment.feedback_due_at, True),
    "dispatched_at": (Assignment.dispatched_at, False),
    "-dispatched_at": (Assignment.dispatched_at, True),
    "-updated_at": (Assignment.updated_at, True),
}


def _extension_pending(assignment_id: Any) -> ColumnElement[bool]:
    """An extension request of this assignment waits for a decision."""
    e = ExtensionRequest.__table__.c  # type: ignore[attr-defined]
    return exists().where(e.assignment_id == assignment_id,
                          e.state == literal_column(f"'{ExtensionState.PENDING.value}'"))


extension_pending_sql = _extension_pending  # for the inboxes (shared/assignments/inbox.py)


@dataclass(frozen=True)
class _Held:
    """The parts of an assignment row that decide who may act (permissions.AssignmentFacts)."""

    state: AssignmentState
    department_id: int
    return_count: int


def to_public(a: Assignment, reference: str, title: str, now: datetime, actor: User,
              case: CaseFacts) -> AssignmentPublic:
    """The API's view of `a` for `actor`: its flags now and the actions he may take."""
    return AssignmentPublic(
        **a.model_dump(exclude={"case_reference", "case_title"}),
        case_reference=reference,
        case_title=title,
        extended=a.feedback_due_at != a.original_feedback_due_at,
        acceptance_overdue=status.is_acceptance_overdue(a.state, a.acceptance_due_at, now),
        feedback_overdue=status.is_overdue(a.state, a.feedback_due_at, now),
        allowed_actions=[x.value for x in available_actions(actor, a, case)],
    )


_TABLE = Assignment.__table__  # type: ignore[attr-defined]
_COMPUTED = {"extended", "acceptance_overdue", "feedback_overdue", "allowed_actions"}
_PUBLIC_FROM_ROW = tuple(name for name in AssignmentPublic.model_fields if name not in _COMPUTED)
# Lists read plain columns, not ORM entities: building entities and validating each
# item twice was most of a queue request's CPU.  The last three columns are the
# case facts that decide each item's allowed actions, so no item needs a query of its own.
LIST_COLUMNS = (
    *_TABLE.c,
    col(Case.reference).label("case_reference"),
    col(Case.title).label("case_title"),
    col(Case.lead_department_id).label("case_lead_department_id"),
    col(Case.coordinator_id).label("case_coordinator_id"),
    _extension_pending(_TABLE.c.id).label("extension_pending"),
)


def public_from_row(row: Mapping[Any, Any], now: datetime, actor: User | None = None) -> AssignmentPublic:
    """An item from a LIST_COLUMNS row, for `actor`; the values come from our own table, so no re-validation.

    Without an actor (a read shared by several people) no action is offered.
    """
    state = AssignmentState(row["state"])
    if actor is None:
        actions: list[str] = []
    else:
        held = _Held(state, row["department_id"], row["return_count"])
        case = CaseFacts(row["case_lead_department_id"], row["case_coordinator_id"], bool(row["extension_pending"]))
        actions = [x.value for x in available_actions(actor, held, case)]
    return AssignmentPublic.model_construct(
        **{name: row[name] for name in _PUBLIC_FROM_ROW},
        extended=row["feedback_due_at"] != row["original_feedback_due_at"],
        acceptance_overdue=status.is_acceptance_overdue(state, row["acceptance_due_at"], now),
        feedback_overdue=status.is_overdue(state, row["feedback_due_at"], now),
        allowed_actions=actions,
    )


def case_facts(session: Session, a: Assignment) -> CaseFacts:
    """What, besides the assignment itself, decides who may act on it now.

    The case comes through the session, so a use case that goes on to read it
    does not query it again.
    """
    case = session.get(Case, a.case_id)
    assert case is not None  # the assignment's foreign key
    pending = session.scalar(select(_extension_pending(a.id)))
    return CaseFacts(case.lead_department_id, case.coordinator_id, bool(pending))


def get_public(session: Session, a: Assignment, now: datetime, actor: User) -> AssignmentPublic:
    reference, title, lead, coordinator, pending = session.execute(
        select(col(Case.reference), col(Case.title), col(Case.lead_department_id), col(Case.coordinator_id),
               _extension_pending(a.id))
        .where(col(Case.id) == a.case_id)
    ).one()
    return to_public(a, reference, title, now, actor, CaseFacts(lead, coordinator, bool(pending)))


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
    due_soon: bool | None = None  # only the due-soon bucket (status.is_due_soon), or none of it


def list_assignments(
    session: Session, actor: User, now: datetime, f: AssignmentFilter, *,
    sort: str = "feedback_due_at", cursor: str | None = None, limit: int = 50,
) -> tuple[list[AssignmentPublic], str | None]:
    if sort not in SORTS:
        raise Invalid("sort", "field_not_allowed", allowed=", ".join(SORTS))
    column, descending = SORTS[sort]
    params: dict[str, Any] = {"states": f.state or None, "department_id": f.department_id, "case_id": f.case_id,
                              "inspection_id": f.inspection_id, "due_before": f.due_before,
                              "campaign_id": f.campaign_id, "category": f.category or None,
                              "source": f.source or None, "pattern": contains_pattern(f.q) if f.q else None}
    params = {k: v for k, v in params.items() if v is not None}
    # What needs no bound value is built once per shape (the filters given) and kept: building and keying
    # it afresh cost more CPU than its query.  The due-date windows and the cursor are added per request.
    stmt = _list_statement(reach(actor), sort, frozenset(params), f.needs_decision)
    if f.overdue is not None:
        overdue = status.overdue_sql(now)
        stmt = stmt.where(overdue if f.overdue else ~overdue)
    if f.due_soon is not None:
        due_soon = status.due_soon_sql(now, due_soon_cutoff(session, now))
        stmt = stmt.where(due_soon if f.due_soon else ~due_soon)
    if cursor:
        stmt = stmt.where(after_cursor(column, Assignment.id, cursor, descending))
    rows = read_columns(session, stmt, {**params, "limit": limit + 1}).mappings().all()
    items = [public_from_row(row, now, actor) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last[column.key], last["id"])
    return items, next_cursor


# The filters that compare a column with their value, by the value's name in list_assignments' parameters.
_EQUALS = {"department_id": Assignment.department_id, "case_id": Assignment.case_id,
           "inspection_id": Assignment.inspection_id, "campaign_id": Case.campaign_id, "category": Case.category,
           "source": Case.source}


@lru_cache(maxsize=1024)
def _list_statement(r: Reach, sort: str, given: frozenset[str], needs_decision: bool | None) -> Select[Any]:
    """list_assignments' statement for the filters GIVEN (by name), their values bound at execution."""
    column, descending = SORTS[sort]
    stmt = (
        select(*LIST_COLUMNS)
        .join(Case, Case.id == Assignment.case_id)  # type: ignore[arg-type]
        .where(column_visible_by_reach(r, Assignment.case_id))
        .where(*(col(c) == bindparam(name) for name, c in _EQUALS.items() if name in given))
    )
    if "states" in given:
        stmt = stmt.where(col(Assignment.state).in_(bindparam("states", expanding=True)))
    if "due_before" in given:
        stmt = stmt.where(col(Assignment.feedback_due_at) < bindparam("due_before"))
    if needs_decision is not None:
        stmt = stmt.where(col(Assignment.needs_decision).is_(needs_decision))
    if "pattern" in given:
        # The cases holding the fragment, from case_search's trigram indexes (shared/cases/search_table.py):
        # a rare one is read from a few pages, and the walk by the list's order tests each row against
        # their ids rather than reading its case (a coordinator's search of all assignments: 603 -> 102 ms).
        pattern = bindparam("pattern", type_=String)
        row = CaseSearch.__table__.c  # type: ignore[attr-defined]
        stmt = stmt.where(col(Assignment.case_id).in_(select(row.case_id).where(
            or_(row.title.ilike(pattern, escape="\\"), row.enterprise_name.ilike(pattern, escape="\\")))))
    order = (column.desc(), col(Assignment.id).desc()) if descending else (column.asc(), col(Assignment.id).asc())
    return stmt.order_by(*order).limit(bindparam("limit", type_=Integer))


def contains_pattern(text: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for TEXT anywhere in a value: its own %, _ and \\ match themselves."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def due_soon_cutoff(session: Session, now: datetime, settings: Settings | None = None) -> datetime:
    """The end of the due-soon window (status.due_soon_cutoff) on the stored working calendar.

    The window is the reminder emails' (`reminder_due_soon_working_days`), from `settings`
    when the caller has its own (the API app's), else from the environment.
    """
    settings = settings or get_settings()
    return status.due_soon_cutoff(working_calendar(session, settings), now, settings.reminder_due_soon_working_days)
