"""The inspection calendar's month as an Excel workbook: the inspections the calendar shows that month.

The calendar page (`/inspections?month=2026-12&format=xlsx`) calls ``export_month``,
which lists through shared.inspections.listing.between — the calendar's own
query and scope — over the days of the month (not the neighbouring days the
grid shows).  Bounded at the case export's cap, by date; a longer month says so
in a note under the rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from shared.cases import export as case_export
from shared.departments.models import Department
from shared.i18n import N_, message, normalise_language
from shared.inspections.listing import between
from shared.inspections.models import InspectionParticipant
from shared.reports.render.xlsx import Column, Fmt, table_workbook
from shared.users.models import User

COLUMNS = (
    Column(N_("page.field.scheduled_on"), Fmt.DATE), Column(N_("page.field.title")), Column(N_("page.col.reference")),
    Column(N_("page.field.lead_department_id")), Column(N_("page.field.participant_department_ids")),
    Column(N_("page.field.place")), Column(N_("page.field.targets")), Column(N_("page.case.status")),
)


def export_month(session: Session, actor: User, first: date, last: date, *, language: str, timezone: str) -> bytes:
    """Inspections scheduled FIRST..LAST (inclusive) that ACTOR sees, by date."""
    lang = normalise_language(language)
    limit = case_export.EXPORT_LIMIT
    lines = between(session, actor, first, last, limit=limit + 1)
    more, lines = len(lines) > limit, lines[:limit]
    names = dict(session.execute(select(col(Department.id), col(Department.name))).tuples().all())
    taking_part: dict[int, list[str]] = {}
    if lines:
        for inspection_id, department_id in session.execute(
                select(col(InspectionParticipant.inspection_id), col(InspectionParticipant.department_id))
                .where(col(InspectionParticipant.inspection_id).in_([line.id for line in lines]))
                .order_by(col(InspectionParticipant.department_id))).tuples():
            taking_part.setdefault(inspection_id, []).append(names.get(department_id, ""))
    separator = "、" if lang == "zh-CN" else ", "
    rows = [[line.scheduled_on, line.title, line.case_reference, names.get(line.lead_department_id, ""),
             separator.join(taking_part.get(line.id, [])), line.place,
             separator.join(t.strip() for t in line.targets.splitlines() if t.strip()),
             message(f"page.inspection.status.{line.status.value}", lang)] for line in lines]
    notes = [message("export.truncated_inspections", lang, n=limit)] if more else []
    return table_workbook(N_("page.inspections.title"), COLUMNS, rows, language=lang, notes=notes,
                          timezone=timezone)
