"""The inboxes (待办): what waits for a head or a coordinator — each list defined once, here.

A head's inbox is his department's: feedback waiting for his sign-off (审签,
which only heads give), extension requests waiting for a decision
(he may decide them, permissions.may_decide_extension), items returned twice
that wait for the coordinator's decision (审定), and what is overdue.  A
coordinator's inbox covers the cases he manages (scope.managed_sql, the SQL of
can_manage_case): feedback to review, returns to decide (returned twice
first), complaint work approved but not yet called back (回访, see
shared/callbacks), and overdue items.  Overdue is status.overdue_sql; every
list is also scoped by scope.case_visible, so nothing of another department's
reach shows.  Each list is one counted query and one limited page of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.queries import LIST_COLUMNS, extension_pending_sql, public_from_row
from shared.assignments.schemas import AssignmentPublic
from shared.callbacks.models import Callback
from shared.callbacks.service import COMPLAINT_SOURCES
from shared.cases.models import Case
from shared.i18n import N_
from shared.scope import case_visible, managed_sql
from shared.users.models import Role, User

LIMIT = 50
A = Assignment.__table__.c  # type: ignore[attr-defined]


@dataclass
class InboxList:
    name: str  # stable: the section's anchor and the tests' handle
    heading: str  # message key
    total: int
    items: list[AssignmentPublic] = field(default_factory=list)


def callback_due_sql() -> ColumnElement[bool]:
    """回访待办: approved work on a complaint case that no callback judges yet."""
    cb = Callback.__table__.c  # type: ignore[attr-defined]
    return (status.states_in(A.state, (AssignmentState.DONE,))
            & col(Case.source).in_([s.value for s in COMPLAINT_SOURCES])
            & ~exists().where(cb.assignment_id == A.id))


def _list(session: Session, actor: User, now: datetime, name: str, heading: str,
          condition: ColumnElement[bool], order: tuple[Any, ...], limit: int) -> InboxList:
    where = (case_visible(actor, A.case_id), condition)
    joined = Assignment.__table__.join(Case.__table__, col(Case.id) == A.case_id)  # type: ignore[attr-defined]
    total = session.scalar(select(func.count()).select_from(joined).where(*where)) or 0
    rows = session.execute(select(*LIST_COLUMNS).select_from(joined).where(*where)
                           .order_by(*order, A.id).limit(limit)).mappings().all()
    return InboxList(name, heading, int(total), [public_from_row(r, now, actor) for r in rows])


def head_inbox(session: Session, actor: User, now: datetime, limit: int = LIMIT) -> list[InboxList]:
    """What waits for a department head: his own department's matters only."""
    mine = A.department_id == actor.department_id
    return [
        _list(session, actor, now, "signoffs", N_("page.inbox.signoffs"),
              mine & status.states_in(A.state, (AssignmentState.AWAITING_SIGNOFF,)), (A.updated_at,), limit),
        _list(session, actor, now, "extensions", N_("page.inbox.extensions"),
              mine & status.open_sql() & extension_pending_sql(A.id), (A.feedback_due_at,), limit),
        _list(session, actor, now, "needs_decision", N_("page.inbox.needs_decision"),
              mine & status.states_in(A.state, (AssignmentState.RETURNED,)) & A.needs_decision.is_(True),
              (A.updated_at,), limit),
        _list(session, actor, now, "overdue", N_("page.inbox.overdue_department"),
              mine & status.overdue_sql(now), (A.feedback_due_at,), limit),
    ]


def coordinator_inbox(session: Session, actor: User, now: datetime, limit: int = LIMIT) -> list[InboxList]:
    """What waits for a coordinator on the cases he manages."""
    managed = managed_sql(actor)
    return [
        _list(session, actor, now, "review", N_("page.inbox.review"),
              managed & status.states_in(A.state, (AssignmentState.SUBMITTED,)), (A.updated_at,), limit),
        _list(session, actor, now, "returns", N_("page.inbox.returns"),
              managed & status.states_in(A.state, (AssignmentState.RETURNED,)),
              (A.needs_decision.desc(), A.updated_at), limit),
        _list(session, actor, now, "callbacks", N_("page.inbox.callbacks"),
              managed & callback_due_sql(), (A.done_at,), limit),
        _list(session, actor, now, "overdue", N_("page.inbox.overdue"),
              managed & status.overdue_sql(now), (A.feedback_due_at,), limit),
    ]


def inbox(session: Session, actor: User, now: datetime, limit: int = LIMIT) -> list[InboxList] | None:
    """The actor's inbox, or None for a role without one (liaisons work from the queue)."""
    if actor.role == Role.HEAD:
        return head_inbox(session, actor, now, limit)
    if actor.role == Role.COORDINATOR:
        return coordinator_inbox(session, actor, now, limit)
    return None
