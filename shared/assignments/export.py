"""A queue as an Excel workbook: the assignments the queue page lists, under the same scope.

The queue page (`/queue?…&format=xlsx`) calls ``export_assignments`` with the
filter of what it shows; rows come from shared.assignments.queries.list_assignments,
so scoping and "overdue" are the list's own (shared/scope.py,
shared/assignments/status.py).  Bounded at EXPORT_LIMIT rows, soonest due first;
a longer list says so in a note under the rows.  ``export_inbox`` writes the
inbox (/inbox?format=xlsx) from shared.assignments.inbox itself: each of the
role's lists in turn on one sheet, named in the first column, each bounded alike.
The cap is the case export's (shared.cases.export.EXPORT_LIMIT), read when called.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from shared.assignments.inbox import inbox
from shared.assignments.queries import AssignmentFilter, list_assignments
from shared.assignments.schemas import AssignmentPublic
from shared.cases import export as case_export
from shared.departments.models import Department
from shared.i18n import N_, message, normalise_language, state_label
from shared.reports.render.xlsx import Column, Fmt, table_workbook
from shared.users.models import User

COLUMNS = (
    Column(N_("page.col.assignment"), Fmt.INT), Column(N_("page.col.reference")), Column(N_("page.col.title")),
    Column(N_("page.col.department")), Column(N_("page.assignment.assignee")), Column(N_("page.col.state")),
    Column(N_("report.col.dispatched_at"), Fmt.TIME), Column(N_("page.col.accept_due"), Fmt.TIME),
    Column(N_("page.col.feedback_due"), Fmt.TIME), Column(N_("page.badge.overdue")),
)


def _rows(session: Session, items: list[AssignmentPublic], lang: str) -> list[list[object]]:
    departments = dict(session.execute(select(col(Department.id), col(Department.name))).tuples().all())
    assignees = {a.assignee_id for a in items if a.assignee_id is not None}
    people = dict(session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(assignees)))
                  .tuples().all()) if assignees else {}
    yes, no = message("report.yes", lang), message("report.no", lang)
    return [[a.id, a.case_reference, a.case_title, departments.get(a.department_id, ""),
             people.get(a.assignee_id) if a.assignee_id else None, state_label(str(a.state), lang),
             a.dispatched_at, a.acceptance_due_at, a.feedback_due_at, yes if a.feedback_overdue else no]
            for a in items]


def export_assignments(session: Session, actor: User, now: datetime, f: AssignmentFilter, *, language: str,
                       timezone: str, sheet_key: str) -> bytes:
    lang = normalise_language(language)
    limit = case_export.EXPORT_LIMIT
    items, more = list_assignments(session, actor, now, f, limit=limit)
    notes = [message("export.truncated_assignments", lang, n=limit)] if more else []
    return table_workbook(sheet_key, COLUMNS, _rows(session, items, lang), language=lang, notes=notes,
                          timezone=timezone)


def export_inbox(session: Session, actor: User, now: datetime, *, language: str, timezone: str) -> bytes | None:
    """The actor's inbox, every list of it; None for a role without one (as ``inbox``)."""
    lang = normalise_language(language)
    limit = case_export.EXPORT_LIMIT
    lists = inbox(session, actor, now, limit=limit)
    if lists is None:
        return None
    rows: list[list[object]] = []
    notes: list[str] = []
    for lst in lists:
        heading = message(lst.heading, lang)
        rows += [[heading, *row] for row in _rows(session, lst.items, lang)]
        if lst.total > len(lst.items):
            notes.append(message("export.truncated_inbox", lang, list=heading, n=limit, total=lst.total))
    return table_workbook(N_("page.inbox.title"), (Column(N_("export.col.inbox_list")), *COLUMNS), rows,
                          language=lang, notes=notes, timezone=timezone)
