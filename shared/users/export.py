"""The user list as an Excel workbook: the accounts `/admin/users` lists, under the same filters.

``export_users`` reads through shared.users.service.list_users, the page's own
query and scope, from the first account on (not the page the admin was on),
by id, bounded at the case export's cap with a note when cut.  No password
hash, no session: the columns the page shows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from shared.cases import export as case_export
from shared.departments.models import Department
from shared.i18n import N_, message, normalise_language
from shared.reports.render.xlsx import Column, table_workbook
from shared.users.models import User
from shared.users.service import UserFilter, list_users

COLUMNS = (
    Column(N_("page.admin.users.username")), Column(N_("page.admin.users.name")),
    Column(N_("page.admin.users.department")), Column(N_("page.admin.users.role")),
    Column(N_("page.admin.users.email")), Column(N_("page.admin.users.state")),
)


def export_users(session: Session, actor: User, f: UserFilter, *, language: str, timezone: str) -> bytes:
    lang = normalise_language(language)
    limit = case_export.EXPORT_LIMIT
    people = list_users(session, actor, f, limit=limit + 1)
    more, people = len(people) > limit, people[:limit]
    names = dict(session.execute(select(col(Department.id), col(Department.name))).tuples().all())
    active, inactive = message("page.admin.active", lang), message("page.admin.inactive", lang)
    rows = [[u.username, u.name, names.get(u.department_id, ""), message(f"page.role.{u.role.value}", lang),
             u.email, active if u.active else inactive] for u in people]
    notes = [message("export.truncated_users", lang, n=limit)] if more else []
    return table_workbook(N_("page.admin.section.users"), COLUMNS, rows, language=lang, notes=notes,
                          timezone=timezone)
