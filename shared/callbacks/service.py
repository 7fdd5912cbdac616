"""回访 use cases: record a satisfaction callback, and send the work back (重办) after a bad one.

A callback follows approved feedback on a complaint case (COMPLAINT_SOURCES):
the case's manager (shared.scope.can_manage_case) or its lead department
records it.  An unsatisfied and unresolved callback lets the manager reopen
the case and send an approved assignment back in one transaction.  Flush,
never commit; every change is a timeline event in the same transaction.
Lock order: callback, then assignment, then case (the assignments' own order after it).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy import case as when
from sqlmodel import Session, col

from shared.actors import Actor
from shared.assignments import service as assignments
from shared.assignments.models import Assignment, AssignmentState
from shared.callbacks.models import Callback, Satisfaction
from shared.callbacks.schemas import CallbackIn, ReworkIn
from shared.cases.models import Case, CaseSource, CaseStatus
from shared.cases.service import reopen_loaded
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import service as events
from shared.scope import DEPARTMENT_ROLES, ManagedCase, can_manage_case, case_for_read, require_case_manager
from shared.users.models import User
from shared.versioning import bump, check_version

# Cases a complainant brought in: only they have someone to call back.  Inspections,
# media reports and referrals have no complainant whose satisfaction is asked.
COMPLAINT_SOURCES = frozenset({CaseSource.HOTLINE_12315, CaseSource.ONLINE_PLATFORM})


def may_record(actor: User, case: ManagedCase) -> bool:
    """The case's manager, or a liaison or head of its lead department."""
    return can_manage_case(actor, case) or (
        actor.role in DEPARTMENT_ROLES and actor.department_id == case.lead_department_id)


def reworkable(cb: Callback) -> bool:
    """不满意且未解决, and not yet sent back."""
    return (cb.reached and cb.satisfaction == Satisfaction.UNSATISFIED and cb.resolved is False
            and cb.reworked_at is None)


def _check_answers(data: CallbackIn) -> None:
    """A complainant who was not reached gave no answer; one who was reached gave both."""
    if data.reached:
        if data.satisfaction is None:
            raise Invalid("satisfaction", "callback_satisfaction_required")
        if data.resolved is None:
            raise Invalid("resolved", "callback_resolved_required")
    else:
        if data.satisfaction is not None:
            raise Invalid("satisfaction", "callback_not_reached_no_answer")
        if data.resolved is not None:
            raise Invalid("resolved", "callback_not_reached_no_answer")


def _judged_assignment(session: Session, case: Case, assignment_id: int | None) -> Assignment:
    """The approved assignment the callback is about (locked, so it is still approved at commit)."""
    stmt = select(Assignment).where(col(Assignment.case_id) == case.id)
    if assignment_id is not None:
        a = session.scalars(stmt.where(col(Assignment.id) == assignment_id).with_for_update()).first()
        if a is None:
            raise Invalid("assignment_id", "callback_assignment_not_on_case")
        if a.state != AssignmentState.DONE:
            raise Conflict("callback_feedback_not_approved", assignment_id=a.id)
        return a
    lead_first = when((col(Assignment.department_id) == case.lead_department_id, 0), else_=1)
    a = session.scalars(stmt.where(col(Assignment.state) == AssignmentState.DONE)
                        .order_by(lead_first, col(Assignment.done_at).desc(), col(Assignment.id).desc())
                        .limit(1).with_for_update()).first()
    if a is None:
        raise Conflict("callback_feedback_not_approved")
    return a


def record_callback(session: Session, clock: Clock, actor: User, case_id: int, data: CallbackIn) -> Callback:
    """回访: 404 outside the actor's reach, 403 for others, 422 for answers that do not fit,
    409 before any feedback on the complaint is approved."""
    case = case_for_read(session, actor, case_id)
    if not may_record(actor, case):
        raise Forbidden()
    _check_answers(data)
    if case.source not in COMPLAINT_SOURCES:
        raise Conflict("callback_not_a_complaint", source=str(case.source))
    a = _judged_assignment(session, case, data.assignment_id)
    now = clock.now()
    cb = Callback(
        case_id=case.id,  # type: ignore[arg-type]
        assignment_id=a.id,  # type: ignore[arg-type]
        department_id=a.department_id,
        made_by=actor.id,  # type: ignore[arg-type]
        made_at=now,
        reached=data.reached,
        attempts=data.attempts,
        satisfaction=data.satisfaction,
        resolved=data.resolved,
        note=data.note,
        updated_at=now,
    )
    session.add(cb)
    session.flush()
    events.record(session, clock, actor, "callback", cb.id, "recorded", case_id=case.id, after={
        "assignment_id": a.id, "department_id": a.department_id, "reached": cb.reached,
        "attempts": cb.attempts, "satisfaction": cb.satisfaction, "resolved": cb.resolved, "note": cb.note,
    })
    session.flush()
    return cb


def list_callbacks(session: Session, actor: Actor, case_id: int) -> list[Callback]:
    """Everyone who sees the case sees its callbacks; the system (CLI) sees every case."""
    case = case_for_read(session, actor, case_id) if isinstance(actor, User) else session.get(Case, case_id)
    if case is None:
        raise NotFound()
    return list(session.scalars(_CASE_CALLBACKS, {"case_id": case.id}))


# Built once: every case page asks.
_CASE_CALLBACKS = (select(Callback).where(col(Callback.case_id) == bindparam("case_id"))
                   .order_by(col(Callback.made_at), col(Callback.id)))


def get_callback(session: Session, actor: User, callback_id: int, *, for_update: bool = False) -> Callback:
    stmt = select(Callback).where(col(Callback.id) == callback_id)
    cb = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if cb is None:
        raise NotFound()
    case_for_read(session, actor, cb.case_id)  # 404 when the case is out of reach
    return cb


def rework(session: Session, clock: Clock, actor: User, callback_id: int, version: int,
           data: ReworkIn) -> Callback:
    """重办 in one step: reopen the case if it is closed and send the approved work back.

    Everything or nothing: any refusal on the way raises before the caller commits.
    """
    cb = get_callback(session, actor, callback_id, for_update=True)
    check_version(cb, version)
    case = session.get(Case, cb.case_id)
    assert case is not None  # get_callback read it
    require_case_manager(actor, case)
    if cb.reworked_at is not None:
        raise Conflict("callback_already_reworked", assignment_id=cb.rework_assignment_id)
    if not reworkable(cb):
        raise Conflict("callback_not_reworkable")
    assignment_id = data.assignment_id or cb.assignment_id
    a = session.scalars(select(Assignment).where(col(Assignment.id) == assignment_id,
                                                 col(Assignment.case_id) == case.id)
                        .with_for_update()).first()
    if a is None:
        raise Invalid("assignment_id", "callback_assignment_not_on_case")
    # The case after the assignment, as every use case locks them; read afresh under the lock.
    case = session.scalars(select(Case).where(col(Case.id) == cb.case_id).with_for_update()
                           .execution_options(populate_existing=True)).one()
    if case.status == CaseStatus.CLOSED:
        reopen_loaded(session, clock, actor, case, data.reason)
    assignments.rework_loaded(session, clock, actor, a, case, data.reason, data.working_days)
    now = clock.now()
    cb.reworked_at, cb.reworked_by, cb.rework_assignment_id = now, actor.id, a.id
    bump(cb, now)
    events.record(session, clock, actor, "callback", cb.id, "reworked", case_id=case.id, after={
        "assignment_id": a.id, "department_id": a.department_id, "reason": data.reason,
        "feedback_due_at": a.feedback_due_at,
    })
    session.flush()
    return cb
