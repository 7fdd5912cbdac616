"""工作日历: each year's state (official, from the package, provisional), and loading a year's
official schedule — the same use case as ``PUT /api/v1/calendar/{year}``.

The form takes the notice as two lists of dates (holidays, make-up working days)
in the text form of ``shared.calendar.notice``; an error names the list and the
line it is on.  From November the missing next year is flagged (the warnings are
``service.calendar_warnings``, as the API's ``/calendar/status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from services.api.pages.admin.base import FormState, actor, admin_html, field_errors, refused
from services.api.pages.common import FormDep, Page, PageDep, done, not_found, redirect, redirect_with_flash
from shared.calendar import service
from shared.calendar.notice import NoticeDay, format_day_list, parse_day_list
from shared.errors import DomainError, Invalid
from shared.i18n import N_
from shared.templating import format_day

router = APIRouter()

OFFICIAL, PACKAGE, PROVISIONAL = "official", "package", "provisional"
# Labels built from the state in the templates: declared for extraction.
_STATE_KEYS = (
    N_("page.admin.calendar.state.official"), N_("page.admin.calendar.state.package"),
    N_("page.admin.calendar.state.provisional"), N_("page.admin.calendar.explain.official"),
    N_("page.admin.calendar.explain.package"), N_("page.admin.calendar.explain.provisional"),
    N_("page.admin.calendar.field.holidays"), N_("page.admin.calendar.field.workdays"),
)


def year_state(view: service.YearView) -> str:
    """官方安排 loaded by an admin, the chinese-calendar package's, or 暂定."""
    if view.provisional:
        return PROVISIONAL
    return OFFICIAL if view.source == service.ADMIN_SOURCE else PACKAGE


def _summary(view: service.YearView) -> dict[str, Any]:
    return {"year": view.year, "year_state": year_state(view), "view": view,
            "holidays": sum(1 for d in view.days if not d.is_working),
            "workdays": sum(1 for d in view.days if d.is_working)}


def warnings(page: Page) -> list[str]:
    return [page.gettext(w["key"], year=w["year"])
            for w in service.calendar_warnings(page.session, page.clock, actor(page), page.settings)]


def this_year(page: Page) -> int:
    return page.now().astimezone(page.settings.tz).year


@router.get("/calendar")
def calendar_page(page: PageDep, year: str | None = None) -> Response:
    state = None
    if year is not None:  # the "another year" form
        wanted = _parse_year(year.strip())
        if wanted is not None:
            return redirect(f"/admin/calendar/{wanted}")
        reason = page.gettext("field_out_of_range_bounds", bounds=f"{service.MIN_YEAR}–{service.MAX_YEAR}")
        state = FormState("year", {"year": year[:8]}, {"year": reason})
    now = this_year(page)
    years = sorted({*range(now - 1, now + 3), *service.loaded_years(page.session, since=now - 1)})
    return admin_html(page, "calendar.html", "calendar", years=[_summary(service.year_view(page.session, y))
                                                                for y in years],
                      warnings=warnings(page), this_year=now, state=state,
                      min_year=service.MIN_YEAR, max_year=service.MAX_YEAR)


def _parse_year(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit() or len(raw) != 4:
        return None
    return int(raw) if service.MIN_YEAR <= int(raw) <= service.MAX_YEAR else None


def _year_page(page: Page, year: int, state: FormState | None = None, status: int = 200) -> Response:
    view = service.year_view(page.session, year)
    prefill = {
        "holidays": format_day_list((d.day, d.name) for d in view.days if not d.is_working),
        "workdays": format_day_list((d.day, d.name) for d in view.days if d.is_working),
    } if view.official else {"holidays": "", "workdays": ""}
    return admin_html(page, "calendar_year.html", "calendar", status=status, state=state, **_summary(view),
                      prefill=prefill, warnings=warnings(page), day_label=lambda d: format_day(d, page.lang))


@router.get("/calendar/{year}")
def calendar_year_page(page: PageDep, year: str) -> Response:
    wanted = _parse_year(year)
    return not_found(page) if wanted is None else _year_page(page, wanted)


def _line_errors(page: Page, exc: DomainError | ValidationError,
                 lists: dict[str, Sequence[NoticeDay]]) -> dict[str, str]:
    """An error on item N of a list ("holidays.3"), said as the line of the text it came from."""
    errors = field_errors(page, exc)
    if isinstance(exc, Invalid):
        name, _, rest = exc.field.partition(".")
        index = rest.split(".")[0]
        items = lists.get(name, ())
        if index.isdigit() and int(index) < len(items):
            errors[name] = page.gettext(N_("page.admin.calendar.at_line"), line=items[int(index)].line,
                                        reason=errors[name])
    return errors


@router.post("/calendar/{year}")
def load_year(page: PageDep, year: str, form: FormDep) -> Response:
    wanted = _parse_year(year)
    if wanted is None:
        return not_found(page)
    lists: dict[str, Sequence[NoticeDay]] = {}
    try:
        holidays_text = form.get("holidays", "")
        if not holidays_text.strip():
            raise Invalid("holidays", "field_required")
        lists["holidays"] = parse_day_list(holidays_text, "holidays")
        lists["workdays"] = parse_day_list(form.get("workdays", ""), "workdays")
        result = service.load_official_year(
            page.session, page.clock, actor(page), wanted,
            [(d.day, d.name) for d in lists["holidays"]], [(d.day, d.name) for d in lists["workdays"]],
            service.ADMIN_SOURCE, settings=page.settings,
        )
        url = f"/admin/calendar/{wanted}"
        done(page, url)
    except (DomainError, ValidationError) as exc:
        return refused(page, exc, "load", form, lambda state, status: _year_page(page, wanted, state, status),
                       visible=("holidays", "workdays"), errors=_line_errors(page, exc, lists))
    key = N_("page.admin.calendar.done.loaded") if result.checked else N_("page.admin.calendar.done.loaded_none")
    return redirect_with_flash(page, url, key, year=wanted, holidays=result.holidays, workdays=result.workdays,
                               checked=result.checked, recomputed=result.recomputed, still=result.still_provisional)
