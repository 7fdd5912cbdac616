"""Assignment use cases (任务/工单): each transition is written here once.

Routes, pages, CLI and workers call these; they flush and never commit.  On
PostgreSQL the row is locked (SELECT … FOR UPDATE) before the version check,
so two concurrent accepts serialise and the loser sees a stale version; on
SQLite every transaction is BEGIN IMMEDIATE, which serialises writers anyway.

Whatever a decision reads is locked first: dispatch and redispatch lock the
case (as close_case does) so a case cannot close under a new assignment.
Lock order is always assignment, then case, then inspection.  Every change
to a case's open work bumps the case's version too, because the case's
representation (its open assignments, its shares) changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlmodel import Session, col

from shared import references
from shared.assignments import hooks, queries, rules, status
from shared.assignments.deadlines import due_dates
from shared.assignments.models import (
    Assignment,
    AssignmentDispatch,
    AssignmentReturn,
    AssignmentState,
    ExtensionRequest,
    ExtensionState,
)
from shared.assignments.permissions import MANAGER_ACTIONS, heads, require_action, require_extension_decider
from shared.assignments.rules import Action, FollowUpAction
from shared.assignments.schemas import (
    DispatchIn,
    ExtensionIn,
    FeedbackIn,
    RedispatchIn,
    ReturnIn,
)
from shared.calendar.service import working_calendar
from shared.cases.models import Case, CaseStatus
from shared.cases.service import ensure_shared
from shared.clock import Clock
from shared.departments.models import Department
from shared.errors import Conflict, Invalid, NotFound
from shared.events import service as events
from shared.feedback.models import Feedback, ReviewDecision, SignoffDecision
from shared.notifications.service import on_assignment_event
from shared.scope import assignment_for_read, case_for_read, require_case_manager
from shared.settings import get_settings
from shared.users.models import User
from shared.versioning import bump, check_version


def _transition(a: Assignment, action: Action) -> AssignmentState:
    return rules.next_state(AssignmentState(a.state), action)


def _record(session: Session, clock: Clock, actor: User | None, a: Assignment, action: str,
            before: dict[str, object] | None = None, after: dict[str, object] | None = None) -> None:
    events.record(session, clock, actor, "assignment", a.id, action, case_id=a.case_id,
                  before=before, after=after)


def _set_deadlines(session: Session, a: Assignment, start: datetime, working_days: int) -> None:
    due = due_dates(session, start, working_days)
    a.dispatched_at = start
    a.working_days = working_days
    a.acceptance_due_at = due.acceptance.at
    a.feedback_due_at = a.original_feedback_due_at = due.feedback.at
    a.due_provisional = due.provisional


def _log_dispatch(session: Session, a: Assignment, *, redispatch: bool) -> None:
    """The weekly figures' count of dispatches: dispatched_at alone forgets earlier ones."""
    session.add(AssignmentDispatch(assignment_id=a.id, case_id=a.case_id,  # type: ignore[arg-type]
                                   department_id=a.department_id, dispatched_at=a.dispatched_at,
                                   redispatch=redispatch))


def _department(session: Session, department_id: int, field: str) -> Department:
    return references.require_department(session, department_id, field)


def _check_assignee(session: Session, assignee_id: int | None, department_id: int) -> None:
    if assignee_id is None:
        return
    user = session.get(User, assignee_id)
    if user is None or not user.active or user.department_id != department_id:
        raise Invalid("assignee_id", "assignee_not_in_department")


def _case_for_manager(session: Session, actor: User, case_id: int) -> Case:
    """The case, locked: the decision taken on it must still hold at commit."""
    loaded_before = session.identity_map.get(Session.identity_key(Case, case_id)) is not None
    case = case_for_read(session, actor, case_id, for_update=True)
    if loaded_before:  # read earlier in this transaction without the lock: it may be stale
        session.refresh(case)
    require_case_manager(actor, case)
    return case


def _touch_case(session: Session, clock: Clock, case_id: int, case: Case | None = None) -> None:
    """Its open work changed, so what GET /cases/{id} shows changed: new version and ETag."""
    if case is None:
        case = session.scalars(select(Case).where(col(Case.id) == case_id).with_for_update()
                               .execution_options(populate_existing=True)).one()
    bump(case, clock.now())


def open_assignment_of(session: Session, case_id: int, department_id: int,
                       *, other_than: int | None = None) -> Assignment | None:
    """The department's open assignment on the case, if it has one."""
    stmt = select(Assignment).where(
        col(Assignment.case_id) == case_id, col(Assignment.department_id) == department_id, status.open_sql(),
    )
    if other_than is not None:
        stmt = stmt.where(col(Assignment.id) != other_than)
    return session.scalars(stmt.order_by(col(Assignment.id)).limit(1)).first()


def _refuse_second_open(session: Session, case_id: int, department_id: int, parallel: bool,
                        *, other_than: int | None = None) -> None:
    """A department holds one open assignment per case unless the request says it is parallel work."""
    if parallel:
        return
    existing = open_assignment_of(session, case_id, department_id, other_than=other_than)
    if existing is not None:
        raise Conflict("assignment_already_open", assignment_id=existing.id, state=str(existing.state))


def _acting(session: Session, actor: User, assignment_id: int, version: int,
            action: Action) -> tuple[Assignment, Case]:
    """Lock the assignment and refuse what permissions.available_actions withholds from `actor`."""
    a = assignment_for_read(session, actor, assignment_id, for_update=True)
    check_version(a, version)
    if action in MANAGER_ACTIONS:
        # The manager's decisions change the case (its version, whether it may close):
        # lock it after the assignment, the order every use case takes.
        session.scalars(select(Case).where(col(Case.id) == a.case_id)
                        .with_for_update().execution_options(populate_existing=True)).one()
    require_action(actor, a, queries.case_facts(session, a), action)
    case = session.get(Case, a.case_id)  # already in the session: case_facts read it
    assert case is not None
    return a, case


# For use cases of other domains that act on an assignment (shared/supervision): the same lock and check.
lock_for_action = _acting
# For the dispatch plan (shared/assignments/plan.py): the case locked before it checks every department.
lock_case_for_manager = _case_for_manager


class HasSource(Protocol):
    @property
    def source(self) -> str: ...


def default_working_days(case: HasSource) -> int:
    templates = get_settings().deadline_templates
    return templates.get(str(case.source), templates.get("other", 10))


def dispatch(
    session: Session, clock: Clock, actor: User, case_id: int, data: DispatchIn,
    *, inspection_id: int | None = None,
) -> Assignment:
    """派发: give a department its own piece of work on the case, with deadlines."""
    case = _case_for_manager(session, actor, case_id)
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed")
    _department(session, data.department_id, "department_id")
    _check_assignee(session, data.assignee_id, data.department_id)
    _refuse_second_open(session, case.id, data.department_id, data.parallel)  # type: ignore[arg-type]
    now = clock.now()
    a = Assignment(
        case_id=case.id,  # type: ignore[arg-type]
        inspection_id=inspection_id,
        department_id=data.department_id,
        assignee_id=data.assignee_id,
        role=data.role,
        instructions=data.instructions,
        dispatched_by=actor.id,  # type: ignore[arg-type]
        updated_at=now,
        dispatched_at=now,
        acceptance_due_at=now,
        feedback_due_at=now,
        original_feedback_due_at=now,
        working_days=0,
    )
    _set_deadlines(session, a, now, data.working_days or default_working_days(case))
    session.add(a)
    ensure_shared(session, clock, actor, case, [data.department_id])
    _touch_case(session, clock, case.id, case)  # type: ignore[arg-type]
    session.flush()
    _record(session, clock, actor, a, "dispatched", after={
        "department_id": a.department_id, "role": a.role, "working_days": a.working_days,
        "feedback_due_at": a.feedback_due_at, "acceptance_due_at": a.acceptance_due_at,
        "provisional": a.due_provisional, "inspection_id": inspection_id,
    })
    _log_dispatch(session, a, redispatch=False)
    on_assignment_event(session, clock, "dispatched", a, actor=actor)
    session.flush()
    return a


def accept(session: Session, clock: Clock, actor: User, assignment_id: int, version: int) -> Assignment:
    """签收"""
    a, _case = _acting(session, actor, assignment_id, version, Action.ACCEPT)
    a.state = _transition(a, Action.ACCEPT)
    now = clock.now()
    a.accepted_at = now
    if a.assignee_id is None:
        a.assignee_id = actor.id
    bump(a, now)
    _record(session, clock, actor, a, "accepted", before={"state": "dispatched"},
            after={"state": "accepted", "assignee_id": a.assignee_id})
    session.flush()
    return a


def return_assignment(
    session: Session, clock: Clock, actor: User, assignment_id: int, version: int, data: ReturnIn
) -> Assignment:
    """退回 with a coded reason; a second return flags it for the coordinator (审定)."""
    a, _case = _acting(session, actor, assignment_id, version, Action.RETURN)
    a.state = _transition(a, Action.RETURN)
    a.return_count += 1
    a.return_reason = data.reason
    a.return_note = data.note
    a.needs_decision = a.return_count >= rules.RETURNS_BEFORE_DECISION
    bump(a, clock.now())
    # A redispatch resets these fields: the weekly figures count returns from this row.
    session.add(AssignmentReturn(assignment_id=a.id, case_id=a.case_id,  # type: ignore[arg-type]
                                 department_id=a.department_id, returned_at=clock.now(),
                                 reason=data.reason, return_number=a.return_count))
    _record(session, clock, actor, a, "returned", before={"state": "dispatched"}, after={
        "state": "returned", "reason": data.reason, "note": data.note,
        "return_count": a.return_count, "needs_decision": a.needs_decision,
    })
    on_assignment_event(session, clock, "returned", a, actor=actor, reason=data.note or data.reason.value)
    session.flush()
    return a


def redispatch(
    session: Session, clock: Clock, actor: User, assignment_id: int, version: int, data: RedispatchIn
) -> Assignment:
    """After a return the coordinator sends it again — to the same or another department."""
    a, case = _acting(session, actor, assignment_id, version, Action.REDISPATCH)
    if a.needs_decision and not (data.decision_note and data.decision_note.strip()):
        raise Invalid("decision_note", "decision_note_required")
    new_state = _transition(a, Action.REDISPATCH)
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed")
    department_id = data.department_id or a.department_id
    _department(session, department_id, "department_id")
    before = {"state": a.state, "department_id": a.department_id, "feedback_due_at": a.feedback_due_at}
    if department_id != a.department_id:
        _refuse_second_open(session, case.id, department_id, data.parallel, other_than=a.id)  # type: ignore[arg-type]
        # A new department starts with a clean slate of returns and no assignee.
        a.return_count, a.assignee_id = 0, None
        if ensure_shared(session, clock, actor, case, [department_id]):
            _touch_case(session, clock, case.id, case)  # type: ignore[arg-type]
    a.department_id = department_id
    if data.instructions is not None:
        a.instructions = data.instructions
    a.state = new_state
    a.needs_decision = False
    a.accepted_at = None
    now = clock.now()
    _set_deadlines(session, a, now, data.working_days or a.working_days)
    bump(a, now)
    _record(session, clock, actor, a, "redispatched", before=before, after={
        "state": "dispatched", "department_id": department_id, "feedback_due_at": a.feedback_due_at,
        "decision_note": data.decision_note,
    })
    _log_dispatch(session, a, redispatch=True)
    on_assignment_event(session, clock, "dispatched", a, actor=actor)
    session.flush()
    return a


def request_extension(
    session: Session, clock: Clock, actor: User, assignment_id: int, version: int, data: ExtensionIn
) -> ExtensionRequest:
    """延期申请: the due date moves only when someone approves it."""
    a, _case = _acting(session, actor, assignment_id, version, Action.REQUEST_EXTENSION)
    now = clock.now()
    ext = ExtensionRequest(
        assignment_id=a.id,  # type: ignore[arg-type]
        requested_by=actor.id,  # type: ignore[arg-type]
        requested_at=now,
        extra_working_days=data.extra_working_days,
        reason=data.reason,
    )
    session.add(ext)
    bump(a, now)
    session.flush()
    _record(session, clock, actor, a, "extension_requested",
            after={"extension_id": ext.id, "extra_working_days": ext.extra_working_days, "reason": ext.reason})
    on_assignment_event(session, clock, "extension_requested", a, actor=actor, extension=ext)
    session.flush()
    return ext


def decide_extension(
    session: Session, clock: Clock, actor: User, assignment_id: int, extension_id: int, version: int,
    *, approve: bool, comment: str | None,
) -> ExtensionRequest:
    a = assignment_for_read(session, actor, assignment_id, for_update=True)
    require_extension_decider(actor, a, queries.case_facts(session, a))
    check_version(a, version)
    ext = session.get(ExtensionRequest, extension_id)
    if ext is None or ext.assignment_id != a.id:
        raise NotFound()
    if ext.state != ExtensionState.PENDING:
        raise Conflict("extension_already_decided")
    now = clock.now()
    ext.state = ExtensionState.APPROVED if approve else ExtensionState.DENIED
    ext.decided_by, ext.decided_at, ext.decision_comment = actor.id, now, comment
    before = {"feedback_due_at": a.feedback_due_at}
    if approve and status.is_active(a.state):
        due = working_calendar(session).add_working_days(a.feedback_due_at, ext.extra_working_days)
        a.feedback_due_at = due.at
        a.due_provisional = a.due_provisional or due.provisional
        ext.new_due_at = due.at
    bump(a, now)
    _record(session, clock, actor, a, "extension_approved" if approve else "extension_denied",
            before=dict(before) if approve else None,
            after={"extension_id": ext.id, "feedback_due_at": a.feedback_due_at, "comment": comment})
    on_assignment_event(session, clock, "extension_decided", a, actor=actor, extension=ext)
    session.flush()
    return ext


def submit_feedback(
    session: Session, clock: Clock, actor: User, assignment_id: int, version: int, data: FeedbackIn
) -> Feedback:
    """反馈: narrative and structured outcomes, for the coordinator to review.

    Where the department requires sign-off (审签) it waits for a head first; a
    head's own feedback is signed by submitting it.  Either way the first
    submission's time is what the on-time figures count (status.is_on_time).
    """
    a, _case = _acting(session, actor, assignment_id, version, Action.SUBMIT)
    department = session.get(Department, a.department_id)
    required = department is not None and department.signoff_required
    by_head = required and heads(actor, a)
    a.state = rules.next_state(AssignmentState(a.state), Action.SUBMIT, signoff=required and not by_head)
    now = clock.now()
    if a.first_submitted_at is None:
        a.first_submitted_at = now
    fb = Feedback(assignment_id=a.id, author_id=actor.id, submitted_at=now, **data.model_dump())  # type: ignore[arg-type]
    if by_head:
        fb.signoff_decision, fb.signoff_by, fb.signoff_at = SignoffDecision.SIGNED_OFF, actor.id, now
    session.add(fb)
    bump(a, now)
    session.flush()
    _record(session, clock, actor, a, "feedback_submitted", before={"state": "accepted"},
            after={"state": a.state.value, "feedback_id": fb.id, **data.model_dump(exclude={"narrative"})})
    waits = a.state == AssignmentState.AWAITING_SIGNOFF
    on_assignment_event(session, clock, "signoff_requested" if waits else "submitted", a, actor=actor, feedback=fb)
    session.flush()
    return fb


def _signoff(session: Session, clock: Clock, actor: User, a: Assignment, decision: SignoffDecision,
             note: str | None) -> Feedback:
    fb = latest_feedback(session, a.id)  # type: ignore[arg-type]
    if fb is None:  # awaiting sign-off always has feedback; defend the invariant anyway
        raise Conflict("no_feedback")
    fb.signoff_decision, fb.signoff_by, fb.signoff_at, fb.signoff_note = decision, actor.id, clock.now(), note
    return fb


def sign_off(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
             note: str | None) -> Assignment:
    """审签通过: the head lets the feedback go on to the coordinator's review."""
    a, _case = _acting(session, actor, assignment_id, version, Action.SIGN_OFF)
    a.state = _transition(a, Action.SIGN_OFF)
    fb = _signoff(session, clock, actor, a, SignoffDecision.SIGNED_OFF, note)
    bump(a, clock.now())
    _record(session, clock, actor, a, "signed_off", before={"state": "awaiting_signoff"},
            after={"state": "submitted", "feedback_id": fb.id, "note": note})
    # From here on it is submitted feedback: the coordinator hears it as such.
    on_assignment_event(session, clock, "submitted", a, actor=actor, feedback=fb)
    session.flush()
    return a


def send_back_signoff(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
                      note: str) -> Assignment:
    """审签退回: back to the liaison with the head's note; the deadline stays as it was."""
    a, _case = _acting(session, actor, assignment_id, version, Action.SEND_BACK_SIGNOFF)
    if not note.strip():
        raise Invalid("note", "field_required")
    a.state = _transition(a, Action.SEND_BACK_SIGNOFF)
    fb = _signoff(session, clock, actor, a, SignoffDecision.SENT_BACK, note)
    bump(a, clock.now())
    _record(session, clock, actor, a, "signoff_sent_back", before={"state": "awaiting_signoff"},
            after={"state": "accepted", "feedback_id": fb.id, "note": note})
    on_assignment_event(session, clock, "signoff_sent_back", a, actor=actor, feedback=fb, reason=note)
    session.flush()
    return a


def latest_feedback(session: Session, assignment_id: int) -> Feedback | None:
    return session.scalars(
        select(Feedback).where(Feedback.assignment_id == assignment_id)  # type: ignore[arg-type]
        .order_by(Feedback.submitted_at.desc(), Feedback.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
    ).first()


def _review(session: Session, clock: Clock, actor: User, a: Assignment, decision: ReviewDecision,
            comment: str | None) -> Feedback:
    fb = latest_feedback(session, a.id)  # type: ignore[arg-type]
    if fb is None:  # a submitted assignment always has feedback; defend the invariant anyway
        raise Conflict("no_feedback")
    fb.review_decision, fb.reviewed_by, fb.reviewed_at, fb.review_comment = (
        decision, actor.id, clock.now(), comment,
    )
    return fb


def approve(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
            comment: str | None) -> Assignment:
    """办结: the coordinator accepts the feedback."""
    a, _case = _acting(session, actor, assignment_id, version, Action.APPROVE)
    a.state = _transition(a, Action.APPROVE)
    now = clock.now()
    fb = _review(session, clock, actor, a, ReviewDecision.APPROVED, comment)
    a.done_at = now
    bump(a, now)
    _record(session, clock, actor, a, "approved", before={"state": "submitted"},
            after={"state": "done", "feedback_id": fb.id, "comment": comment})
    _touch_case(session, clock, a.case_id, _case)
    on_assignment_event(session, clock, "approved", a, actor=actor, feedback=fb)
    session.flush()
    hooks.approved(session, clock, actor, a)  # e.g. the joint inspection completes
    return a


def send_back(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
              reason: str) -> Assignment:
    """退回重办: rework; the deadline stays as it was."""
    a, _case = _acting(session, actor, assignment_id, version, Action.SEND_BACK)
    a.state = _transition(a, Action.SEND_BACK)
    fb = _review(session, clock, actor, a, ReviewDecision.SENT_BACK, reason)
    bump(a, clock.now())
    _record(session, clock, actor, a, "sent_back", before={"state": "submitted"},
            after={"state": "accepted", "feedback_id": fb.id, "reason": reason})
    on_assignment_event(session, clock, "sent_back", a, actor=actor, feedback=fb, reason=reason)
    session.flush()
    return a


def rework_loaded(session: Session, clock: Clock, actor: User, a: Assignment, case: Case, reason: str,
                  working_days: int | None) -> Assignment:
    """重办: approved work goes back to its department, accepted again, with a new feedback due date.

    Only the callback's rework (shared/callbacks/service.py) calls this: it has
    locked `a` and then `case`, reopened the case and checked that `actor` manages it.
    The new due date counts working days from now (the old one has long passed);
    the first submission stays, so the weekly figures keep the original on-time answer.
    """
    new_state = rules.follow_up_state(AssignmentState(a.state), FollowUpAction.REWORK)
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed")
    _refuse_second_open(session, case.id, a.department_id, False, other_than=a.id)  # type: ignore[arg-type]
    now = clock.now()
    days = working_days or a.working_days
    due = working_calendar(session).add_working_days(now, days)
    before = {"state": a.state, "feedback_due_at": a.feedback_due_at, "done_at": a.done_at}
    a.state = new_state
    a.done_at = None
    a.working_days = days
    a.feedback_due_at = a.original_feedback_due_at = due.at
    a.due_provisional = due.provisional
    bump(a, now)
    _touch_case(session, clock, case.id, case)  # type: ignore[arg-type]
    _record(session, clock, actor, a, "reworked", before=before, after={
        "state": "accepted", "feedback_due_at": a.feedback_due_at, "working_days": days, "reason": reason,
    })
    # The department hears it as a send-back (退回重办) with the reason: the same email it knows.
    on_assignment_event(session, clock, "sent_back", a, actor=actor, reason=reason)
    session.flush()
    return a


def cancel(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
           reason: str) -> Assignment:
    a, _case = _acting(session, actor, assignment_id, version, Action.CANCEL)
    return cancel_loaded(session, clock, actor, a, reason)


def cancel_loaded(session: Session, clock: Clock, actor: User, a: Assignment, reason: str) -> Assignment:
    before = a.state
    a.state = _transition(a, Action.CANCEL)
    a.cancel_reason = reason
    a.needs_decision = False
    bump(a, clock.now())
    _touch_case(session, clock, a.case_id)
    _record(session, clock, actor, a, "cancelled", before={"state": before},
            after={"state": "cancelled", "reason": reason})
    on_assignment_event(session, clock, "cancelled", a, actor=actor, reason=reason)
    session.flush()
    return a


def extensions(session: Session, assignment_id: int) -> list[ExtensionRequest]:
    return list(session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.assignment_id == assignment_id)  # type: ignore[arg-type]
        .order_by(ExtensionRequest.id)  # type: ignore[arg-type]
    ))


def feedback_history(session: Session, assignment_id: int) -> list[Feedback]:
    return list(session.scalars(
        select(Feedback).where(Feedback.assignment_id == assignment_id)  # type: ignore[arg-type]
        .order_by(Feedback.id)  # type: ignore[arg-type]
    ))
