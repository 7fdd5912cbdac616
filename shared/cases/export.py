"""The case list as an Excel workbook: the rows the list shows, under the same filters and scope.

The page (`/cases?…&format=xlsx`) and the API (`GET /api/v1/cases?…&format=xlsx`)
both call ``export_cases``, which reads through shared.cases.queries.list_cases:
an export can never hold a case the list would not show.  It is bounded at
EXPORT_LIMIT rows, newest first; a larger result says so in a note under the
rows.  No complainant data is exported: a sheet outlives every access rule.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from shared.cases.labels import row_labels
from shared.cases.queries import CaseFilter, list_cases
from shared.departments.choices import choices
from shared.i18n import N_, message, normalise_language
from shared.reports.render.xlsx import Column, Fmt, table_workbook
from shared.users.models import User

# Every list export's cap (the queue, the inbox, the inspection month, the admin lists read it when called).
EXPORT_LIMIT = 5000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = (
    Column(N_("page.col.reference")), Column(N_("page.col.title")), Column(N_("page.case.enterprise")),
    Column(N_("page.case.credit_code")), Column(N_("page.case.category")), Column(N_("page.case.source")),
    Column(N_("page.case.priority")), Column(N_("page.case.status")), Column(N_("page.case.lead")),
    Column(N_("page.case.created"), Fmt.TIME), Column(N_("export.col.closed_at"), Fmt.TIME),
)


def export_cases(session: Session, actor: User, f: CaseFilter, *, now: datetime, language: str,
                 timezone: str) -> bytes:
    lang = normalise_language(language)
    cases, more = list_cases(session, actor, f, limit=EXPORT_LIMIT, now=now)
    names, labels = choices(session).names, row_labels(lang)
    rows = [[c.reference, c.title, c.enterprise_name, c.enterprise_credit_code, c.category,
             labels["source"][c.source], labels["priority"][c.priority],
             labels["status"][c.status], names.get(c.lead_department_id, ""),
             c.created_at, c.closed_at] for c in cases]
    notes = [message("export.truncated", lang, n=EXPORT_LIMIT)] if more else []
    return table_workbook(N_("page.cases.title"), COLUMNS, rows, language=lang, notes=notes, timezone=timezone)


def filename(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%d-%H%M}.xlsx"
