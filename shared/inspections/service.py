"""Joint inspections (联合检查): one assignment and one feedback per participating department.

Inspections depend on assignments, never the other way round; completion on
the last approval is in completion.py, registered as an assignments hook.
Closing or cancelling locks the inspection's open assignments before the
inspection itself: an approval locks its assignment first and the
inspection after (in completion.py), and the same order on both sides means
the two can never deadlock.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from shared import references
from shared.assignments import service as assignments
from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentRole
from shared.assignments.schemas import DispatchIn
from shared.cases.models import Case
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import service as events
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.inspections.schemas import InspectionCreate, InspectionPublic, InspectionUpdate
from shared.scope import can_manage_case, case_for_read, require_case_manager
from shared.settings import get_settings
from shared.users.models import Role, User
from shared.versioning import bump, check_version


def _record(session: Session, clock: Clock, actor: User | None, i: Inspection, action: str,
            **kwargs: object) -> None:
    events.record(session, clock, actor, "inspection", i.id, action, case_id=i.case_id, **kwargs)  # type: ignore[arg-type]


def _local_today(clock: Clock) -> date:
    return clock.now().astimezone(get_settings().tz).date()


def _check_date(clock: Clock, data: InspectionCreate) -> None:
    """An inspection is planned for today or later — or recorded after the fact, saying so.

    Recording one that already took place (补录) is allowed only explicitly, with its
    record, and never for a date still to come: a typo in the year must not
    silently produce an inspection "done" last year, nor a plan recorded as done.
    """
    today = _local_today(clock)
    if not data.recorded_after_fact:
        if data.scheduled_on < today:
            raise Invalid("scheduled_on", "inspection_date_past", today=today.isoformat())
        return
    if data.scheduled_on > today:
        raise Invalid("scheduled_on", "inspection_after_fact_future", today=today.isoformat())
    if not data.record.strip():
        raise Invalid("record", "inspection_record_required")


def schedule(session: Session, clock: Clock, actor: User, data: InspectionCreate) -> Inspection:
    try:
        case = case_for_read(session, actor, data.case_id)
    except NotFound:  # a case out of reach is as unknown as one that does not exist
        raise Invalid("case_id", "case_unknown", ids=str(data.case_id)) from None
    require_case_manager(actor, case)
    references.require_department(session, data.lead_department_id, "lead_department_id")
    references.require_departments(session, data.participant_department_ids, "participant_department_ids")
    references.require_campaign(session, data.campaign_id)
    now = clock.now()
    _check_date(clock, data)
    departments = list(dict.fromkeys([data.lead_department_id, *data.participant_department_ids]))
    inspection = Inspection(
        case_id=case.id,
        campaign_id=data.campaign_id if data.campaign_id is not None else case.campaign_id,
        lead_department_id=data.lead_department_id,
        title=data.title,
        scheduled_on=data.scheduled_on,
        place=data.place,
        targets=data.targets,
        record=data.record,
        created_by=actor.id,  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
    )
    session.add(inspection)
    session.flush()
    _record(session, clock, actor, inspection, "scheduled", after={
        "title": data.title, "scheduled_on": data.scheduled_on, "place": data.place,
        "lead_department_id": data.lead_department_id, "departments": departments,
        **({"recorded_after_fact": True} if data.recorded_after_fact else {}),
    })
    for department_id in departments:
        session.add(InspectionParticipant(inspection_id=inspection.id, department_id=department_id))  # type: ignore[arg-type]
        # The inspection's own piece of work, beside whatever the department already does on the case.
        assignments.dispatch(
            session, clock, actor, case.id,  # type: ignore[arg-type]
            DispatchIn(department_id=department_id, instructions=data.instructions or data.title,
                       working_days=data.working_days, parallel=True,
                       role=AssignmentRole.LEAD if department_id == data.lead_department_id else AssignmentRole.ASSIST),
            inspection_id=inspection.id,
        )
    session.flush()
    return inspection


def _load(session: Session, actor: User, inspection_id: int, *, for_update: bool = False) -> tuple[Inspection, Case]:
    stmt = select(Inspection).where(Inspection.id == inspection_id)  # type: ignore[arg-type]
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    inspection = session.scalars(stmt).first()
    if inspection is None or inspection.case_id is None:
        raise NotFound()
    case = case_for_read(session, actor, inspection.case_id)  # 404 when the case is out of reach
    return inspection, case


def get(session: Session, actor: User, inspection_id: int) -> Inspection:
    return _load(session, actor, inspection_id)[0]


def get_with_case(session: Session, actor: User, inspection_id: int) -> tuple[Inspection, Case]:
    """The inspection and its case, for a page that shows both (404 alike when out of reach)."""
    return _load(session, actor, inspection_id)


def may_lead(actor: User, inspection: Inspection, case: Case) -> bool:
    """Edit, record and close: whoever manages the case, or the head of the lead department."""
    return can_manage_case(actor, case) or (
        actor.role == Role.HEAD and actor.department_id == inspection.lead_department_id
    )


def update(session: Session, clock: Clock, actor: User, inspection_id: int, version: int,
           data: InspectionUpdate) -> Inspection:
    inspection, case = _load(session, actor, inspection_id, for_update=True)
    if not may_lead(actor, inspection, case):
        raise Forbidden()
    check_version(inspection, version)
    if inspection.status != InspectionStatus.PLANNED:
        raise Conflict("inspection_not_planned")
    changes = data.model_dump(exclude_unset=True)
    moved_to = changes.get("scheduled_on")
    if moved_to is not None and moved_to != inspection.scheduled_on and moved_to < _local_today(clock):
        raise Invalid("scheduled_on", "inspection_date_past", today=_local_today(clock).isoformat())
    before, after = events.diff(inspection, changes)
    if after:
        for name, value in after.items():
            setattr(inspection, name, value)
        bump(inspection, clock.now())
        _record(session, clock, actor, inspection, "updated", before=before, after=after)
    session.flush()
    return inspection


def _load_for_ending(session: Session, actor: User, inspection_id: int) -> tuple[Inspection, Case, list[Assignment]]:
    """The inspection and its open assignments, locked assignments first (see the module docstring)."""
    _load(session, actor, inspection_id)  # 404 before anything is locked
    open_work = _open_assignments(session, inspection_id)
    inspection, case = _load(session, actor, inspection_id, for_update=True)
    return inspection, case, open_work


def close(session: Session, clock: Clock, actor: User, inspection_id: int, version: int, reason: str) -> Inspection:
    """The lead closes it with a reason; assignments still open are cancelled with that reason."""
    inspection, case, open_work = _load_for_ending(session, actor, inspection_id)
    if not may_lead(actor, inspection, case):
        raise Forbidden()
    check_version(inspection, version)
    if inspection.status != InspectionStatus.PLANNED:
        raise Conflict("inspection_not_planned")
    for a in open_work:
        assignments.cancel_loaded(session, clock, actor, a, reason)
    now = clock.now()
    inspection.status, inspection.close_reason, inspection.completed_at = InspectionStatus.DONE, reason, now
    bump(inspection, now)
    _record(session, clock, actor, inspection, "closed", before={"status": "planned"},
            after={"status": "done", "reason": reason})
    session.flush()
    return inspection


def cancel(session: Session, clock: Clock, actor: User, inspection_id: int, version: int, reason: str) -> Inspection:
    inspection, case, open_work = _load_for_ending(session, actor, inspection_id)
    require_case_manager(actor, case)
    check_version(inspection, version)
    if inspection.status != InspectionStatus.PLANNED:
        raise Conflict("inspection_not_planned")
    for a in open_work:
        assignments.cancel_loaded(session, clock, actor, a, reason)
    inspection.status, inspection.close_reason = InspectionStatus.CANCELLED, reason
    bump(inspection, clock.now())
    _record(session, clock, actor, inspection, "cancelled", after={"reason": reason})
    session.flush()
    return inspection


def _open_assignments(session: Session, inspection_id: int) -> list[Assignment]:
    return list(session.scalars(
        select(Assignment).where(col(Assignment.inspection_id) == inspection_id, status.open_sql())
        .order_by(col(Assignment.id)).with_for_update()
    ))


def to_public(session: Session, inspection: Inspection) -> InspectionPublic:
    participants = list(session.scalars(
        select(col(InspectionParticipant.department_id))
        .where(InspectionParticipant.inspection_id == inspection.id)  # type: ignore[arg-type]
        .order_by(InspectionParticipant.department_id)  # type: ignore[arg-type]
    ))
    assignment_ids = list(session.scalars(
        select(col(Assignment.id)).where(col(Assignment.inspection_id) == inspection.id).order_by(col(Assignment.id))
    ))
    return InspectionPublic(**inspection.model_dump(), participant_department_ids=participants,
                            assignment_ids=assignment_ids)

