"""Which inspections an actor sees over a span of days: the month calendar and the feeds.

Visibility is the case's (shared/scope.py), exactly what `service.get` applies
to one inspection: a department that cannot see the case cannot see its
inspection on the calendar either.  One query, bounded by the dates (indexed)
and a row limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, select, true
from sqlmodel import Session, col

from shared.cases.models import Case
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.scope import case_visible
from shared.users.models import User

MAX_ROWS = 1000


@dataclass(frozen=True)
class InspectionLine:
    id: int
    title: str
    scheduled_on: date
    place: str
    targets: str
    status: InspectionStatus
    lead_department_id: int
    case_id: int
    case_reference: str
    version: int


def visible_sql(actor: User) -> ColumnElement[bool]:
    """The inspections `actor` may open (service.get refuses one without a case, so does this)."""
    return and_(col(Inspection.case_id).is_not(None), case_visible(actor, Inspection.case_id))


def involves_department(department_id: int) -> ColumnElement[bool]:
    """The department leads it or takes part (the lead is always a participant too)."""
    return (
        select(col(InspectionParticipant.inspection_id))
        .where(col(InspectionParticipant.inspection_id) == Inspection.id,
               col(InspectionParticipant.department_id) == department_id)
        .correlate(Inspection)
        .exists()
    )


def between(session: Session, actor: User, first: date, last: date, *,
            involving: ColumnElement[bool] | None = None, limit: int = MAX_ROWS) -> list[InspectionLine]:
    """Visible inspections scheduled FIRST..LAST (inclusive), by date, at most LIMIT."""
    stmt = (
        select(Inspection, col(Case.reference))
        .join(Case, col(Case.id) == Inspection.case_id)
        .where(visible_sql(actor), col(Inspection.scheduled_on) >= first, col(Inspection.scheduled_on) <= last,
               involving if involving is not None else true())
        .order_by(col(Inspection.scheduled_on), col(Inspection.id))
        .limit(limit)
    )
    return [
        InspectionLine(id=i.id, title=i.title, scheduled_on=i.scheduled_on, place=i.place,  # type: ignore[arg-type]
                       targets=i.targets, status=InspectionStatus(i.status),
                       lead_department_id=i.lead_department_id, case_id=i.case_id,  # type: ignore[arg-type]
                       case_reference=reference, version=i.version)
        for i, reference in session.execute(stmt).all()
    ]
