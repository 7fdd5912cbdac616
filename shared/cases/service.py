"""Case use cases: open, edit, share, comment, close, reopen, flag as typical."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from shared import references
from shared.assignments import status
from shared.assignments.models import Assignment
from shared.cases.models import Case, CaseSequence, CaseShare, CaseStatus
from shared.cases.permissions import may_open_case
from shared.cases.schemas import CaseCreate, CaseUpdate
from shared.clock import Clock
from shared.errors import Conflict, Forbidden
from shared.events import service as events
from shared.scope import case_for_read, require_case_manager, shared_department_ids
from shared.settings import get_settings
from shared.users.models import Role, User
from shared.versioning import bump, check_version

PII_FIELDS = ("complainant_name", "complainant_phone", "complainant_id_number", "complainant_address")


def next_reference(session: Session, year: int) -> str:
    """GZ-<year>-<6 digits>, gapless per year.

    The UPDATE takes the year's row lock until the transaction ends, so
    concurrent creators queue; a rolled-back creation gives its number back.
    """
    table = CaseSequence.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).values(year=year, last_value=0).on_conflict_do_nothing())
    value = session.execute(
        update(table)
        .where(table.c.year == year)
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    ).scalar_one()
    return f"GZ-{year}-{value:06d}"


def create_case(session: Session, clock: Clock, actor: User, data: CaseCreate) -> Case:
    if not may_open_case(actor):
        raise Forbidden()
    lead = data.lead_department_id or actor.department_id
    references.require_departments(session, [lead], "lead_department_id")
    shared_with = sorted(set(data.shared_with) - {lead})
    references.require_departments(session, shared_with, "shared_with")
    references.require_campaign(session, data.campaign_id)
    now = clock.now()
    year = now.astimezone(get_settings().tz).year
    fields = data.model_dump(exclude={"lead_department_id", "shared_with"})
    case = Case(
        **fields,
        reference=next_reference(session, year),
        lead_department_id=lead,
        coordinator_id=actor.id,  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    for department_id in shared_with:
        session.add(CaseShare(case_id=case.id, department_id=department_id, shared_at=now,  # type: ignore[arg-type]
                              case_created_at=case.created_at))
    logged = {k: v for k, v in fields.items() if k not in PII_FIELDS and v not in (None, "")}
    logged.update(reference=case.reference, lead_department_id=lead, shared_with=shared_with)
    if any(fields.get(k) for k in PII_FIELDS):
        logged["complainant"] = "recorded"
    events.record(session, clock, actor, "case", case.id, "created", case_id=case.id, after=logged)
    session.flush()
    return case


def update_case(
    session: Session, clock: Clock, actor: User, case_id: int, version: int, data: CaseUpdate
) -> Case:
    case = case_for_read(session, actor, case_id, for_update=True)
    require_case_manager(actor, case)
    check_version(case, version)
    changes = data.model_dump(exclude_unset=True)
    if "campaign_id" in changes:
        references.require_campaign(session, changes["campaign_id"])
    before, after = events.diff(case, changes)
    if not after:
        return case
    for name, value in after.items():
        setattr(case, name, value)
    bump(case, clock.now())
    # Personal data never goes into the trail in clear; the trail says it changed.
    for name in PII_FIELDS:
        if name in after:
            before[name], after[name] = "***", "***"
    action = "typical_flagged" if set(after) == {"is_typical"} else "updated"
    events.record(session, clock, actor, "case", case.id, action, case_id=case.id, before=before, after=after)
    session.flush()
    return case


def ensure_shared(session: Session, clock: Clock, actor: User, case: Case, department_ids: list[int]) -> list[int]:
    """Share the case with these departments if not already; returns the ones added."""
    current = set(shared_department_ids(session, case.id))  # type: ignore[arg-type]
    added = sorted(set(department_ids) - current - {case.lead_department_id})
    now = clock.now()
    for department_id in added:
        session.add(CaseShare(case_id=case.id, department_id=department_id, shared_at=now,  # type: ignore[arg-type]
                              case_created_at=case.created_at))
    if added:
        events.record(session, clock, actor, "case", case.id, "shared", case_id=case.id,
                      before={"shared_with": sorted(current)}, after={"shared_with": sorted(current | set(added))})
    return added


def share_case(
    session: Session, clock: Clock, actor: User, case_id: int, version: int, department_ids: list[int]
) -> Case:
    case = case_for_read(session, actor, case_id, for_update=True)
    require_case_manager(actor, case)
    check_version(case, version)
    references.require_departments(session, department_ids, "department_ids")
    if ensure_shared(session, clock, actor, case, department_ids):
        bump(case, clock.now())
    session.flush()
    return case


def open_assignment_count(session: Session, case_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Assignment).where(col(Assignment.case_id) == case_id, status.open_sql())
    ) or 0


def close_case(session: Session, clock: Clock, actor: User, case_id: int, version: int, note: str | None) -> Case:
    case = case_for_read(session, actor, case_id, for_update=True)
    require_case_manager(actor, case)
    check_version(case, version)
    if case.status == CaseStatus.CLOSED:
        raise Conflict("case_already_closed")
    still_open = open_assignment_count(session, case.id)  # type: ignore[arg-type]
    if still_open:
        raise Conflict("case_has_open_assignments", count=still_open)
    now = clock.now()
    case.status, case.closed_at = CaseStatus.CLOSED, now
    bump(case, now)
    events.record(session, clock, actor, "case", case.id, "closed", case_id=case.id,
                  before={"status": "open"}, after={"status": "closed", "note": note})
    session.flush()
    return case


def reopen_case(session: Session, clock: Clock, actor: User, case_id: int, version: int, reason: str) -> Case:
    case = case_for_read(session, actor, case_id, for_update=True)
    require_case_manager(actor, case)
    check_version(case, version)
    return reopen_loaded(session, clock, actor, case, reason)


def reopen_loaded(session: Session, clock: Clock, actor: User, case: Case, reason: str) -> Case:
    """Reopen a case the caller has locked and checked (e.g. 重办 after a callback)."""
    if case.status != CaseStatus.CLOSED:
        raise Conflict("case_not_closed")
    case.status, case.closed_at = CaseStatus.OPEN, None
    bump(case, clock.now())
    events.record(session, clock, actor, "case", case.id, "reopened", case_id=case.id,
                  before={"status": "closed"}, after={"status": "open", "reason": reason})
    session.flush()
    return case


def comment(session: Session, clock: Clock, actor: User, case_id: int, text: str) -> None:
    """A note on the timeline; leaders read but do not write."""
    case = case_for_read(session, actor, case_id)
    if actor.role == Role.LEADER:
        raise Forbidden()
    events.record(session, clock, actor, "case", case.id, "commented", case_id=case.id, after={"text": text})
    session.flush()
