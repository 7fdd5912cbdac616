"""The leaders' dashboard (周报): this week so far and last week, the league table, the trend, the archive.

Read-only, except an admin's "regenerate this week" (POST, one-time form
token, 303).  What a user reads is decided by the use cases: the figures by
``figures.report_for`` (leaders, coordinators and admins every department, a
head their own section with the league table, anyone else 404) and the
archive by ``archive.read``/``archive.listing`` (the same rule).  The archive's
HTML view and its Word and Excel downloads are rendered from the archived
report, in the reader's language.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse, Response

from services.api.caching import NO_STORE_HEADERS
from services.api.pages.common import (
    Flash,
    FormDep,
    Page,
    PageDep,
    done,
    error_page,
    error_text,
    html,
    login_redirect,
    not_found,
    parse_id,
    redirect_with_flash,
)
from services.api.path_gate import PathGate
from shared.errors import DomainError, NotFound
from shared.i18n import N_
from shared.reports import archive, delivery, figures, render
from shared.reports.model import WeeklyReport
from shared.reports.render import common as fmt
from shared.reports.weeks import IsoWeek
from shared.users.models import Role

router = PathGate()

# The archive's HTML view is the email as sent: its styles are inline (mail clients need
# that), so it gets a policy of its own — inline styles, no script, nothing from elsewhere.
EMAIL_VIEW_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    **NO_STORE_HEADERS,
}
DOWNLOADS = {"docx": delivery.DOCX, "xlsx": delivery.XLSX}


def _report(page: Page, week: IsoWeek) -> WeeklyReport | None:
    """The week as the user may read it; None when the week cannot be reported (no case yet)."""
    assert page.user is not None
    try:
        return figures.report_for(page.session, page.user, week, now=page.now(), settings=page.settings)
    except NotFound:
        raise
    except DomainError:
        return None


def _overdue_link(user_role: Role, department_id: int) -> str:
    """Where a department's overdue work is listed: the queue's overdue bucket."""
    if user_role == Role.HEAD:
        return "/queue?bucket=overdue"
    return f"/queue?department_id={department_id}&bucket=overdue"


def _helpers(lang: str) -> dict[str, Any]:
    return {
        "pct": fmt.percent,
        "level_label": lambda level: fmt.level_label(level, lang),
        "level_reasons": lambda reasons, floors: fmt.level_reasons(reasons, floors, lang),
        "week_title": lambda week: fmt.week_title(week, lang),
        "week_short": lambda week: fmt.week_short(week, lang),
    }


def _dashboard(page: Page, selected: IsoWeek | None, *, status: int = 200) -> Response:
    assert page.user is not None
    user, session, now, tz = page.user, page.session, page.now(), page.settings.tz
    this_week = IsoWeek.containing(now, tz)
    last_week = this_week.previous()
    selected = selected or last_week
    try:
        current = _report(page, this_week)
        previous = _report(page, last_week)
        shown = {this_week: current, last_week: previous}.get(selected) or _report(page, selected)
    except NotFound:
        return not_found(page)
    records = archive.listing(session, user)
    deliveries = archive.delivery_states(session, user, records)
    return html(
        page, "reports/dashboard.html", status=status,
        this_week=str(this_week), last_week=str(last_week), selected=str(selected),
        current=current, previous=previous, shown=shown, records=records, deliveries=deliveries,
        overdue_link=lambda department_id: _overdue_link(user.role, department_id),
        is_admin=user.role == Role.ADMIN, is_head=user.role == Role.HEAD,
        **_helpers(page.lang),
    )


@router.get("/reports")
def reports_page(page: PageDep, week: str | None = None) -> Response:
    if page.user is None:
        return login_redirect(page)
    if not archive.may_read_reports(page.user):
        return not_found(page)
    selected: IsoWeek | None = None
    if week:
        try:
            selected = figures.parse_week(week)
        except DomainError as exc:
            return error_page(page, 422, exc.key, **exc.params)
    return _dashboard(page, selected)


def _archived(page: Page, raw_id: str) -> archive.Archived | None:
    assert page.user is not None
    record_id = parse_id(raw_id)
    if record_id is None:
        return None
    try:
        return archive.read(page.session, page.user, record_id)
    except NotFound:
        return None


@router.get("/reports/archive/{record_id}")
def archived_view(page: PageDep, record_id: str) -> Response:
    """The email as the recipients read it, in the reader's language."""
    if page.user is None:
        return login_redirect(page)
    found = _archived(page, record_id)
    if found is None:
        return not_found(page)
    page.session.rollback()  # a read: end the transaction before rendering
    email = render.render_email(found.report, language=page.lang, base_url=page.settings.base_url,
                                timezone=page.settings.timezone)
    return HTMLResponse(email.html, headers=EMAIL_VIEW_HEADERS)


@router.get("/reports/archive/{record_id}/{kind}")
def archived_file(page: PageDep, record_id: str, kind: str) -> Response:
    """The Word file or the Excel workbook of an archived report, in the reader's language."""
    if page.user is None:
        return login_redirect(page)
    found = _archived(page, record_id) if kind in DOWNLOADS else None
    if found is None:
        return not_found(page)
    page.session.rollback()
    lang, tz = page.lang, page.settings.timezone
    if kind == "docx":
        content = render.render_docx(found.report, language=lang, timezone=tz)
    else:
        content = render.render_xlsx(found.report, found.rows, language=lang, timezone=tz)
    name = delivery.file_name(found.report, kind, lang)
    ascii_name = f"gongzhi-{found.report.week}-{found.record.scope.replace(':', '-')}.{kind}"
    return Response(content, media_type=DOWNLOADS[kind], headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        **NO_STORE_HEADERS,
    })


@router.post("/reports/regenerate")
def regenerate(page: PageDep, form: FormDep) -> Response:
    """Admins: compute a past week again (the archive's figures; nothing is sent)."""
    if page.user is None:
        return login_redirect(page)
    if not archive.may_read_reports(page.user):
        return not_found(page)
    raw = form.get("week", "").strip()
    try:
        week = figures.parse_week(raw)
        archive.regenerate(page.session, page.user, week, now=page.now(), settings=page.settings)
        target = f"/reports?week={week}"
        done(page, target)
    except DomainError as exc:
        page.session.rollback()
        if exc.status == 403:
            return error_page(page, 403, exc.key)
        page.flashes.append(Flash("error", error_text(page, exc)))
        return _dashboard(page, None, status=exc.status)
    return redirect_with_flash(page, target, N_("page.reports.regenerated"), week=str(week))



# Built in the template from an outbox state ("page.reports.delivery." ~ state): declared for extraction.
_BUILT_KEYS = (
    N_("page.reports.delivery.pending"), N_("page.reports.delivery.sending"), N_("page.reports.delivery.sent"),
    N_("page.reports.delivery.failed"), N_("page.reports.delivery.unknown"),
    N_("page.reports.delivery.discarded"), N_("page.reports.delivery.missing"),
)
