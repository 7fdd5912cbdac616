"""Reads of assignments: lists with filters and keyset pagination, and the department queue.

Every read is scoped (shared.scope.case_visible) and done in a constant number
of statements, whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy import case as sql_case
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState, ExtensionRequest, ExtensionState
from shared.assignments.permissions import CaseFacts, available_actions
from shared.assignments.schemas import AssignmentPublic, QueueCounts
from shared.assignments.status import ACTIVE_STATES, OPEN_STATES
from shared.calendar.service import WorkingCalendar, working_calendar
from shared.cases.models import Case
from shared.db import UTCDateTime
from shared.departments.models import QueueStamp
from shared.errors import Forbidden, Invalid
from shared.pagination import after_cursor, encode_cursor
from shared.scope import DEPARTMENT_ROLES, case_visible
from shared.users.models import AuthToken, Role, User

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
        overdue = status.overdue_sql(now)
        stmt = stmt.where(overdue if f.overdue else ~overdue)
    if f.due_soon is not None:
        due_soon = status.due_soon_sql(now, due_soon_cutoff(session, now))
        stmt = stmt.where(due_soon if f.due_soon else ~due_soon)
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
    items = [public_from_row(row, now, actor) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last[column.key], last["id"])
    return items, next_cursor


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def due_soon_cutoff(session: Session, now: datetime) -> datetime:
    """The end of the due-soon window (status.due_soon_cutoff) on the stored working calendar."""
    return cutoff_on(working_calendar(session), now)


def cutoff_on(calendar: WorkingCalendar, now: datetime) -> datetime:
    """due_soon_cutoff with the calendar in hand; the window is the configured one."""
    return status.due_soon_cutoff(calendar, now)


class Member(Protocol):
    """Who asks for a queue: a User, or the columns of one read with a token."""

    @property
    def role(self) -> Role: ...

    @property
    def department_id(self) -> int: ...


def queue_department(actor: Member, department_id: int | None) -> int:
    """Liaisons and heads see their own queue; coordinators, leaders and admins any."""
    if actor.role in DEPARTMENT_ROLES:
        if department_id not in (None, actor.department_id):
            raise Forbidden()
        return actor.department_id
    return department_id if department_id is not None else actor.department_id


def _one_of(column: Any, values: Iterable[str]) -> Any:
    """column IN ('…', '…') with our own constants written out, not bound.

    A prepared statement can then still use the partial indexes (whose
    predicate names the states), and no parameter is expanded per execution.
    """
    return column.in_([literal_column(f"'{v}'") for v in values])


def _in(column: Any, states: tuple[AssignmentState, ...]) -> Any:
    return _one_of(column, (s.value for s in states))


_A = _TABLE.c


def _bucket_counts(department: Any, now: Any, soon: Any) -> Select[Any]:
    """The queue's counts in one row, and `next_due`: the first due time not yet passed.

    Grouped by state first, so each open item is looked at once and PostgreSQL
    answers from ix_assignment_queue alone (department, state, due time).
    The counts can only change when `now` passes `next_due` (or `soon` moves).
    """
    due = _A.feedback_due_at
    per_state = (
        select(
            _A.state,
            func.count().label("n"),
            func.sum(sql_case((due < now, 1), else_=0)).label("overdue"),
            func.sum(sql_case((and_(due >= now, due <= soon), 1), else_=0)).label("due_soon"),
            func.min(sql_case((due >= now, due))).label("next_due"),
        )
        .where(_A.department_id == department, _in(_A.state, OPEN_STATES))
        .group_by(_A.state)
        .subquery("per_state")
    )
    g = per_state.c
    active = _in(g.state, ACTIVE_STATES)

    def total(value: Any, when: Any) -> Any:
        return cast(func.coalesce(func.sum(sql_case((when, value), else_=0)), 0), Integer)

    return select(
        total(g.n, g.state == AssignmentState.DISPATCHED.value).label("to_accept"),
        total(g.n, g.state == AssignmentState.ACCEPTED.value).label("in_progress"),
        total(g.due_soon, active).label("due_soon"),
        total(g.overdue, active).label("overdue"),
        total(g.n, g.state == AssignmentState.SUBMITTED.value).label("awaiting_review"),
        type_coerce(func.min(sql_case((active, g.next_due))), UTCDateTime()).label("next_due"),
    )


def _most_urgent(department: Any, limit: Any) -> Select[Any]:
    """The department's active items, earliest due first.

    The ids are picked first, from ix_assignment_active_queue alone (department,
    due time, id): a plan that reads rows to find the department's cannot look
    cheaper, even when the department is a parameter.
    """
    urgent = (
        select(_A.id)
        .where(_A.department_id == department, _in(_A.state, ACTIVE_STATES))
        .order_by(_A.feedback_due_at.asc(), _A.id.asc())
        .limit(limit)
        .subquery("urgent")
    )
    return (
        select(*LIST_COLUMNS)
        .join(urgent, urgent.c.id == _A.id)
        .join(Case, Case.id == Assignment.case_id)  # type: ignore[arg-type]
        .order_by(_A.feedback_due_at.asc(), _A.id.asc())
    )


@dataclass(frozen=True)
class QueueRead:
    """A department's queue as one statement saw it."""

    generation: int  # the department's queue stamp in the same snapshot
    counts: QueueCounts
    items: list[AssignmentPublic]
    # The last instant at which these counts and flags still hold for the same data
    # and cutoff (None: until the data or the cutoff changes).
    holds_through: datetime | None


def _queue_fill() -> Select[Any]:
    """Stamp, counts and most urgent items of one department in ONE statement, so in one snapshot.

    Parameters: department_id, now, soon, limit.  One row per item (one row
    with NULL item columns when there are none), each carrying the counts.
    """
    department = bindparam("department_id", type_=Integer)
    now = bindparam("now", type_=UTCDateTime())
    generation = select(col(QueueStamp.generation)).where(col(QueueStamp.department_id) == department)
    counts = _bucket_counts(department, now, bindparam("soon", type_=UTCDateTime())).subquery("counts")
    items = _most_urgent(department, bindparam("limit", type_=Integer)).subquery("items")
    return (
        select(func.coalesce(generation.scalar_subquery(), 0).label("queue_generation"), counts, items)
        .select_from(counts)
        .outerjoin(items, true())
        .order_by(items.c.feedback_due_at, items.c.id)
    )


QUEUE_FILL = _queue_fill()


def read_queue(conn: Connection | Session, department_id: int, now: datetime, soon: datetime,
               limit: int) -> QueueRead:
    rows = conn.execute(
        QUEUE_FILL, {"department_id": department_id, "now": now, "soon": soon, "limit": limit}
    ).mappings().all()
    first = rows[0]
    items = [public_from_row(row, now) for row in rows if row["id"] is not None]
    # Flags of the items shown change when `now` passes their acceptance due time too.
    upcoming = [first["next_due"], *(a.acceptance_due_at for a in items
                                     if a.state == AssignmentState.DISPATCHED and a.acceptance_due_at >= now)]
    known = [t for t in upcoming if t is not None]
    counts = QueueCounts(to_accept=first["to_accept"], in_progress=first["in_progress"],
                         due_soon=first["due_soon"], overdue=first["overdue"],
                         awaiting_review=first["awaiting_review"])
    return QueueRead(first["queue_generation"], counts, items, min(known) if known else None)


def queue(
    session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50
) -> tuple[int, QueueCounts, list[AssignmentPublic]]:
    """The department's work: counts by bucket and the most urgent items, in one statement."""
    dept = queue_department(actor, department_id)
    read = read_queue(session, dept, now, due_soon_cutoff(session, now), limit)
    return dept, read.counts, read.items


def _stamp_columns(token_hash: Any, requested: Any, asked: Any = None) -> Select[Any]:
    """Who holds the token, and the stamp of the queue they asked for (`requested` or NULL).

    Plain columns, no entity.  queue_department_id is the department
    queue_department answers for this user; Python checks it again, and
    refuses a liaison asking for another department's queue.  `asked` is the
    FROM clause that `token_hash` and `requested` come from, if not parameters.
    """
    own = col(User.department_id)
    department = sql_case((_one_of(col(User.role), sorted(r.value for r in DEPARTMENT_ROLES)), own),
                          else_=func.coalesce(requested, own))
    stmt = select(
        col(User.role), own.label("department_id"), col(User.active),
        col(AuthToken.expires_at), col(AuthToken.revoked),
        department.label("queue_department_id"),
        func.coalesce(col(QueueStamp.generation), literal_column("0")).label("queue_generation"),
    )
    if asked is None:
        stmt = stmt.select_from(AuthToken).where(col(AuthToken.token_hash) == token_hash)
    else:
        stmt = stmt.select_from(asked).join(AuthToken, col(AuthToken.token_hash) == token_hash)
    return (
        stmt.join(User, User.id == AuthToken.user_id)  # type: ignore[arg-type]
        .outerjoin(QueueStamp, col(QueueStamp.department_id) == department)
    )


# Parameters: token_hash, department_id (as requested, or NULL).
STAMP_FOR_TOKEN = _stamp_columns(bindparam("token_hash", type_=String),
                                 bindparam("department_id", type_=Integer))


def _stamps_for_tokens() -> Select[Any]:
    """STAMP_FOR_TOKEN for many requests at once (PostgreSQL): one row per token found.

    Parameters: token_hashes and department_ids, two arrays of the same length;
    each row names the (asked_token_hash, asked_department_id) it answers.
    """
    asked = func.unnest(
        cast(bindparam("token_hashes"), postgresql.ARRAY(String)),
        cast(bindparam("department_ids"), postgresql.ARRAY(Integer)),
    ).table_valued(column("token_hash", String), column("department_id", Integer)).render_derived()
    stmt = _stamp_columns(asked.c.token_hash, asked.c.department_id, asked)
    return stmt.add_columns(asked.c.token_hash.label("asked_token_hash"),
                            asked.c.department_id.label("asked_department_id"))


STAMPS_FOR_TOKENS = _stamps_for_tokens()
