"""A queue as an Excel workbook: the assignments the queue page lists, under the same scope.

The queue page (`/queue?…&format=xlsx`) calls ``export_assignments`` with the
filter of what it shows; rows come from shared.assignments.queries.list_assignments,
so scoping and "overdue" are the list's own (shared/scope.py,
shared/assignments/status.py).  Bounded at EXPORT_LIMIT rows, soonest due first;
a longer list says so in a note under the rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from shared.assignments.queries import AssignmentFilter, list_assignments
from shared.departments.models import Department
from shared.i18n import N_, message, normalise_language, state_label
from shared.reports.render.xlsx import Column, Fmt, table_workbook
from shared.users.models import User

EXPORT_LIMIT = 5000

COLUMNS = (
    Column(N_("page.col.assignment"), Fmt.INT), Column(N_("page.col.reference")), Column(N_("page.col.title")),
    Column(N_("page.col.department")), Column(N_("page.assignment.assignee")), Column(N_("page.col.state")),
    Column(N_("report.col.dispatched_at"), Fmt.TIME), Column(N_("page.col.accept_due"), Fmt.TIME),
    Column(N_("page.col.feedback_due"), Fmt.TIME), Column(N_("page.badge.overdue")),
)


def export_assignments(session: Session, actor: User, now: datetime, f: AssignmentFilter, *, language: str,
                       timezone: str, sheet_key: str) -> bytes:
    lang = normalise_language(language)
    items, more = list_assignments(session, actor, now, f, limit=EXPORT_LIMIT)
    departments = dict(session.execute(select(col(Department.id), col(Department.name))).tuples().all())
    assignees = {a.assignee_id for a in items if a.assignee_id is not None}
    people = dict(session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(assignees)))
                  .tuples().all()) if assignees else {}
    yes, no = message("report.yes", lang), message("report.no", lang)
    rows = [[a.id, a.case_reference, a.case_title, departments.get(a.department_id, ""),
             people.get(a.assignee_id) if a.assignee_id else None, state_label(str(a.state), lang),
             a.dispatched_at, a.acceptance_due_at, a.feedback_due_at, yes if a.feedback_overdue else no]
            for a in items]
    notes = [message("export.truncated_assignments", lang, n=EXPORT_LIMIT)] if more else []
    return table_workbook(sheet_key, COLUMNS, rows, language=lang, notes=notes, timezone=timezone)
