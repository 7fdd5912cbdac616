"""Dispatch as the hotlines do it, and the 承办人 inside a department.

`dispatch_plan` (派发方案) names a lead department (主办) and any assisting ones
(协办) in one step: each gets its own assignment, through `service.dispatch`,
so every rule of a single dispatch holds for each of them (one open assignment
per department per case unless parallel; deadlines; the department hears of it).
Everything is checked before anything is written, and the caller commits once,
so the plan happens whole or not at all: a department that already holds open
work refuses the whole plan with 409 naming its open assignment.

`preview` gives the deadlines such a dispatch would get now, from the same
function that sets them (shared/assignments/deadlines.py).

`hand_over` (交办) lets a liaison or head of the assigned department give
accepted work to a named colleague (`permissions.may_carry`); who may do it is
`Action.ASSIGN` in `permissions.available_actions`, like every other action.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from shared import references
from shared.assignments import queries, service
from shared.assignments.deadlines import due_dates
from shared.assignments.models import Assignment, AssignmentRole
from shared.assignments.permissions import may_carry, require_action, works_for
from shared.assignments.rules import Action
from shared.assignments.schemas import DispatchIn, DispatchPlanIn, DuePreview
from shared.assignments.service import HasSource
from shared.cases.models import Case, CaseStatus
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound
from shared.events import service as events
from shared.notifications.service import on_assignment_event
from shared.scope import DEPARTMENT_ROLES, assignment_for_read, case_for_read, require_case_manager
from shared.users.models import User
from shared.versioning import bump, check_version


def preview(session: Session, clock: Clock, actor: User, case_id: int, working_days: int | None) -> DuePreview:
    """The deadlines a dispatch on this case would get if it were made now (the case's managers only)."""
    case = case_for_read(session, actor, case_id)
    require_case_manager(actor, case)
    return preview_for(session, clock, case, working_days)


def preview_for(session: Session, clock: Clock, case: HasSource, working_days: int | None) -> DuePreview:
    """`preview` for a case its caller has already checked the actor may manage (the case page)."""
    days = working_days or service.default_working_days(case)
    due = due_dates(session, clock.now(), days)
    return DuePreview(working_days=days, acceptance_due_at=due.acceptance.at, feedback_due_at=due.feedback.at,
                      provisional=due.provisional)


def _check_plan(session: Session, case: Case, data: DispatchPlanIn) -> list[tuple[int, AssignmentRole]]:
    """Every department named once and active; none holding open work on the case unless parallel."""
    references.require_department(session, data.lead_department_id, "lead_department_id")
    seen = {data.lead_department_id}
    for n, department_id in enumerate(data.assist_department_ids):
        field = f"assist_department_ids[{n}]"
        if department_id in seen:
            raise Invalid(field, "assist_department_repeated")
        references.require_department(session, department_id, field)
        seen.add(department_id)
    plan = [(data.lead_department_id, AssignmentRole.LEAD),
            *((d, AssignmentRole.ASSIST) for d in data.assist_department_ids)]
    if not data.parallel:
        for department_id, _role in plan:
            existing = service.open_assignment_of(session, case.id, department_id)  # type: ignore[arg-type]
            if existing is not None:
                raise Conflict("assignment_already_open", assignment_id=existing.id, state=str(existing.state))
    return plan


def dispatch_plan(session: Session, clock: Clock, actor: User, case_id: int, data: DispatchPlanIn) -> list[Assignment]:
    """派发: the lead's assignment first, then each assisting department's, in the order given."""
    case = service.lock_case_for_manager(session, actor, case_id)
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed")
    plan = _check_plan(session, case, data)
    return [
        service.dispatch(session, clock, actor, case_id, DispatchIn(
            department_id=department_id, role=role, instructions=data.instructions,
            working_days=data.working_days, parallel=data.parallel))
        for department_id, role in plan
    ]


def colleagues(session: Session, department_id: int) -> list[User]:
    """Who may carry the department's work (承办人): its active liaisons and heads, by name."""
    rows = session.scalars(select(User).where(
        col(User.department_id) == department_id, col(User.active).is_(True),
        col(User.role).in_(sorted(DEPARTMENT_ROLES)),
    ).order_by(col(User.name), col(User.id)))
    return [u for u in rows if may_carry(u, department_id)]


def hand_over(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
              assignee_id: int) -> Assignment:
    """交办: a liaison or head of the assigned department gives accepted work to a colleague.

    Another department's assignment is not there for him (404), even on a case
    shared with both; the colleague must be an active liaison or head of the
    same department (422 naming `assignee_id`, the same answer for an unknown
    id, so user ids cannot be probed).
    """
    a = assignment_for_read(session, actor, assignment_id, for_update=True)
    if not works_for(actor, a):
        raise NotFound()
    check_version(a, version)
    require_action(actor, a, queries.case_facts(session, a), Action.ASSIGN)
    colleague = session.get(User, assignee_id)
    if colleague is None or not may_carry(colleague, a.department_id):
        raise Invalid("assignee_id", "assignee_not_in_department")
    if a.assignee_id == colleague.id:
        raise Conflict("assignee_unchanged")
    before_id = a.assignee_id
    before = session.get(User, before_id) if before_id is not None else None
    a.assignee_id = colleague.id
    bump(a, clock.now())
    events.record(session, clock, actor, "assignment", a.id, "assigned", case_id=a.case_id,
                  before={"assignee_id": before_id, "assignee_name": before.name if before else None},
                  after={"assignee_id": colleague.id, "assignee_name": colleague.name})
    on_assignment_event(session, clock, "assigned", a, actor=actor)
    session.flush()
    return a
