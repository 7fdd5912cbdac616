"""The log of personal-data reads as an Excel workbook, and how one entry is described.

``export_audit`` reads through shared.audit.service.search — admins only, the
page's and the API's own query — under the page's filter, newest first,
bounded at the case export's cap with a note when cut.  Like the page, it says
which fields were read, never their values.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from shared.audit import service as audit
from shared.audit.models import AuditEntry
from shared.cases import export as case_export
from shared.cases.service import PII_FIELDS
from shared.departments.models import Department
from shared.i18n import N_, message, normalise_language
from shared.reports.render.xlsx import Column, Fmt, table_workbook
from shared.users.models import User

FIELD_KEYS = {name: f"page.case.{name}" for name in PII_FIELDS}

COLUMNS = (
    Column(N_("page.admin.audit.at"), Fmt.TIME), Column(N_("page.admin.audit.reader")),
    Column(N_("page.admin.users.username")), Column(N_("page.admin.users.department")),
    Column(N_("page.admin.audit.case")), Column(N_("page.admin.audit.what")),
)


def what(entry: AuditEntry, lang: str) -> str:
    """What was read: "查看投诉人完整信息：姓名、联系电话"."""
    if entry.action != audit.PERSONAL_DATA_READ:
        return entry.action
    names = [message(FIELD_KEYS[n], lang) for n in (entry.detail or {}).get("fields", []) if n in FIELD_KEYS]
    if not names:
        return message(N_("page.admin.audit.read"), lang)
    return message(N_("page.admin.audit.read_fields"), lang, fields=("、" if lang == "zh-CN" else ", ").join(names))


def export_audit(session: Session, actor: User, f: audit.AuditFilter, *, language: str, timezone: str) -> bytes:
    lang = normalise_language(language)
    limit = case_export.EXPORT_LIMIT
    entries, next_cursor = audit.search(session, actor, f, limit=limit)
    readers = {e.actor_id for e in entries}
    people = {u.id: u for u in session.scalars(select(User).where(col(User.id).in_(readers)))} if readers else {}
    names = dict(session.execute(select(col(Department.id), col(Department.name))).tuples().all())
    rows = []
    for e in entries:
        reader = people.get(e.actor_id)
        case = (e.detail or {}).get("reference") or (f"#{e.case_id}" if e.case_id else None)
        rows.append([e.at, reader.name if reader else f"#{e.actor_id}", reader.username if reader else None,
                     names.get(reader.department_id, "") if reader else None, case, what(e, lang)])
    notes = [message("export.truncated_audit", lang, n=limit)] if next_cursor else []
    return table_workbook(N_("page.admin.audit.title"), COLUMNS, rows, language=lang, notes=notes,
                          timezone=timezone)
