"""催办 and 挂牌督办: the coordinator's notices on an open assignment.

Either one is a coordinator's act on the case he manages (permissions offer
Action.URGE and Action.SUPERVISE to him alone, on any open assignment).  In
one transaction it records a fact row (the weekly figures count it), a
timeline event, a new version of the assignment (its page shows the badge
and the history), and the emails to the department's liaisons and heads,
written to the outbox at once whatever their digest preference: someone asked
for this by hand.  One of each kind per assignment and local date — a second
the same day is refused (409) instead of mailing the department again.

挂牌督办 stays on the item: the 督办 badge shows while the assignment is open.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from shared.assignments import service as assignments
from shared.assignments import status
from shared.assignments.models import Assignment
from shared.assignments.rules import Action
from shared.clock import Clock
from shared.errors import Conflict
from shared.events import service as events
from shared.i18n import N_
from shared.notifications.service import on_urge
from shared.settings import get_settings
from shared.supervision.models import AssignmentUrge, UrgeKind
from shared.users.models import User
from shared.versioning import bump

ACTION_OF = {UrgeKind.URGE: Action.URGE, UrgeKind.SUPERVISE: Action.SUPERVISE}
EVENT_OF = {UrgeKind.URGE: "urged", UrgeKind.SUPERVISE: "supervised"}
DONE_TODAY = {UrgeKind.URGE: N_("already_urged_today"), UrgeKind.SUPERVISE: N_("already_supervised_today")}


def urge(session: Session, clock: Clock, actor: User, assignment_id: int, version: int,
         kind: UrgeKind, note: str | None = None) -> AssignmentUrge:
    """催办 (URGE) or 挂牌督办 (SUPERVISE): 404 out of reach, 403 unless the case's coordinator,
    409 on closed work or when done already today, 412 when stale."""
    a, _case = assignments.lock_for_action(session, actor, assignment_id, version, ACTION_OF[kind])
    now = clock.now()
    day = now.astimezone(get_settings().tz).date()
    earlier = session.scalar(select(col(AssignmentUrge.id)).where(
        col(AssignmentUrge.assignment_id) == a.id, col(AssignmentUrge.kind) == kind,
        col(AssignmentUrge.local_date) == day))
    if earlier is not None:
        raise Conflict(DONE_TODAY[kind])
    text = (note or "").strip()
    row = AssignmentUrge(assignment_id=a.id, case_id=a.case_id, department_id=a.department_id,  # type: ignore[arg-type]
                         kind=kind, at=now, local_date=day, by=actor.id, note=text)  # type: ignore[arg-type]
    session.add(row)
    bump(a, now)
    session.flush()
    events.record(session, clock, actor, "assignment", a.id, EVENT_OF[kind], case_id=a.case_id,
                  after={"kind": kind.value, "note": text or None, "department_id": a.department_id})
    on_urge(session, clock, a, kind.value, actor=actor, note=text or None)
    session.flush()
    return row


def supervised_ids(session: Session, assignment_ids: Iterable[int]) -> set[int]:
    """Which of these assignments are under 挂牌督办 now: flagged and still open (one query)."""
    wanted = sorted(set(assignment_ids))
    if not wanted:
        return set()
    return set(session.scalars(
        select(col(AssignmentUrge.assignment_id)).distinct()
        .join(Assignment, col(Assignment.id) == col(AssignmentUrge.assignment_id))
        .where(col(AssignmentUrge.assignment_id).in_(wanted), col(AssignmentUrge.kind) == UrgeKind.SUPERVISE,
               status.open_sql())))


def history(session: Session, assignment_id: int) -> list[AssignmentUrge]:
    """The assignment's 催办 and 督办, oldest first."""
    return list(session.scalars(select(AssignmentUrge).where(col(AssignmentUrge.assignment_id) == assignment_id)
                                .order_by(col(AssignmentUrge.id))))
