"""个人信息查阅记录: who read which complainant's data in full, and when.

``shared.audit.service.search``, as ``GET /api/v1/audit``: newest first, keyset
paged.  The page names a user by login name and a case by its reference (or
number), and a date range in local days (both days included).  The same URL with
``format=xlsx`` downloads every entry the filter finds, not one page of them
(shared/audit/export.py); a filter naming nothing shows the page with its reasons.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import col

from services.api.pages.admin.base import FormState, actor, admin_html
from services.api.pages.common import Flash, Page, PageDep, department_names, error_text, xlsx_download
from shared.audit import service as audit
from shared.audit.export import export_audit, what
from shared.audit.models import AuditEntry
from shared.cases.models import Case
from shared.errors import Invalid
from shared.i18n import N_
from shared.users.models import User

router = APIRouter()

PAGE_SIZE = 50


def _user_id(page: Page, text: str) -> int:
    found = page.session.scalar(select(col(User.id)).where(col(User.username) == text))
    if found is None:
        raise Invalid("user", N_("page.admin.audit.no_such_user"), name=text)
    return int(found)


def _case_id(page: Page, text: str) -> int:
    where = col(Case.reference) == text.upper()
    if text.isdigit() and len(text) <= 10:
        where = where | (col(Case.id) == int(text))
    found = page.session.scalar(select(col(Case.id)).where(where).limit(1))
    if found is None:
        raise Invalid("case", N_("page.admin.audit.no_such_case"), reference=text)
    return int(found)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(name, "field_invalid") from None


def _filter(page: Page, given: dict[str, str]) -> tuple[audit.AuditFilter, dict[str, str]]:
    """The API's filter from the page's fields; the reasons beside the fields that name nothing."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    tz = page.settings.tz
    readers = {
        "user": lambda t: ("user_id", _user_id(page, t)),
        "case": lambda t: ("case_id", _case_id(page, t)),
        "since": lambda t: ("since", datetime.combine(_day(t, "since"), time(), tzinfo=tz)),
        # The last day counts in full: up to the start of the next.
        "until": lambda t: ("until", datetime.combine(_day(t, "until") + timedelta(days=1), time(), tzinfo=tz)),
    }
    for name, read in readers.items():
        if given.get(name):
            try:
                key, value = read(given[name])
                values[key] = value
            except Invalid as exc:
                errors[name] = page.gettext(exc.key, **exc.params)
    return audit.AuditFilter(**values), errors


@router.get("/audit")
def audit_page(page: PageDep, user: str = "", case: str = "", since: str = "", until: str = "",
               cursor: str | None = None, format: str | None = None) -> Response:
    given = {k: v.strip()[:64] for k, v in (("user", user), ("case", case), ("since", since), ("until", until))
             if v.strip()}
    f, errors = _filter(page, given)
    if format == "xlsx" and not errors:
        return xlsx_download(page, export_audit(page.session, actor(page), f, language=page.lang,
                                                timezone=page.settings.timezone), "audit")
    rows: list[AuditEntry] = []
    next_cursor = None
    if not errors:
        try:
            rows, next_cursor = audit.search(page.session, actor(page), f, cursor=cursor or None, limit=PAGE_SIZE)
        except Invalid as exc:  # an edited cursor: the first page, saying so
            page.session.rollback()
            page.flashes.append(Flash("error", error_text(page, exc)))
            rows, next_cursor = audit.search(page.session, actor(page), f, limit=PAGE_SIZE)
            cursor = None
    else:
        page.flashes.append(Flash("error", page.gettext(N_("page.admin.fix_fields"))))
    readers = {r.actor_id for r in rows}
    people = {u.id: u for u in page.session.scalars(select(User).where(col(User.id).in_(readers)))} if readers else {}
    return admin_html(page, "audit.html", "audit", state=FormState("filter", given, errors), entries=rows,
                      people=people, what={r.id: what(r, page.lang) for r in rows},
                      names=department_names(page.session),
                      filters=given, paged=bool(cursor),
                      next_url=f"/admin/audit?{urlencode({**given, 'cursor': next_cursor})}" if next_cursor else None,
                      first_url=f"/admin/audit?{urlencode(given)}",
                      export_url=f"/admin/audit?{urlencode({**given, 'format': 'xlsx'})}")
