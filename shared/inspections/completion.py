"""A joint inspection is done when every participant's assignment is approved.

Registered as an assignments hook (see shared/assignments/hooks.py), so the
assignments domain never imports this one.  The inspection row is locked
before the assignments are counted: two last approvals committed at once
would otherwise each see the other's assignment still submitted, and the
inspection would stay planned for ever.  The second one waits here for the
first to commit, then reads both as done.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from shared.assignments import hooks, status
from shared.assignments.models import Assignment, AssignmentState
from shared.clock import Clock
from shared.events import service as events
from shared.inspections.models import Inspection, InspectionStatus
from shared.users.models import User
from shared.versioning import bump


def complete_if_all_done(session: Session, clock: Clock, actor: User | None, inspection_id: int) -> None:
    """Done when every participant's assignment is approved (cancelled ones do not hold it open)."""
    inspection = session.scalars(
        select(Inspection).where(col(Inspection.id) == inspection_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if inspection is None or inspection.status != InspectionStatus.PLANNED:
        return
    states = set(session.scalars(
        select(col(Assignment.state)).where(col(Assignment.inspection_id) == inspection_id)
    ))
    if AssignmentState.DONE in states and not any(status.is_open(s) for s in states):
        now = clock.now()
        inspection.status, inspection.completed_at = InspectionStatus.DONE, now
        bump(inspection, now)
        events.record(session, clock, actor, "inspection", inspection.id, "completed",  # type: ignore[arg-type]
                      case_id=inspection.case_id, before={"status": "planned"}, after={"status": "done"})
        session.flush()


@hooks.on_approved
def _assignment_approved(session: Session, clock: Clock, actor: User | None, a: Assignment) -> None:
    if a.inspection_id is not None:
        complete_if_all_done(session, clock, actor, a.inspection_id)
