"""Joint inspection pages (联合检查): the month calendar, scheduling, one inspection.

Thin callers of shared/inspections: ``service.schedule``/``update``/``close``/
``cancel`` decide who may do what, exactly as for the API; the calendar lists
through ``listing.between``, which scopes by the case as ``service.get`` does.
The page only asks the domain whether to *offer* a form (``service.may_lead``,
``scope.can_manage_case``); the use case checks again when it is posted.

A refused form comes back with the user's input and the reason next to the
field it concerns (and once at the top, for screen readers and phones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from services.api.errors import field_reason
from services.api.pages.auth import STATIC_DIR
from services.api.pages.common import (
    Flash,
    FormDep,
    Page,
    PageDep,
    active_departments,
    campaign_choices,
    department_names,
    detail_page,
    done,
    error_text,
    form_values,
    form_version,
    html,
    login_redirect,
    not_found,
    parse_id,
    posted,
    redirect_with_flash,
    xlsx_download,
)
from services.api.path_gate import PathGate
from shared.assignments import queries
from shared.assignments.queries import AssignmentFilter
from shared.calendar.service import year_view
from shared.campaigns.models import Campaign
from shared.cases.models import Case
from shared.cases.schemas import ReasonIn
from shared.errors import DomainError, Invalid, NotFound, Unauthorized
from shared.i18n import N_, translate
from shared.inspections import listing, service
from shared.inspections.export import export_month
from shared.inspections.listing import InspectionLine
from shared.inspections.models import InspectionStatus
from shared.inspections.schemas import InspectionCreate, InspectionUpdate
from shared.scope import can_manage_case
from shared.users.models import Role, User
from shared.users.names import user_names

router = PathGate()

MONTH = re.compile(r"(\d{4})-(\d{2})")
REFERENCE = re.compile(r"[A-Za-z]{2,4}-\d{4}-\d{1,9}")
NEW_FIELDS = ("case_id", "campaign_id", "title", "lead_department_id", "scheduled_on", "place", "targets",
              "instructions", "working_days", "record")


# ------------------------------------------------------------------ field errors

def field_errors(page: Page, exc: DomainError | ValidationError) -> dict[str, str]:
    """The reason for each field the refusal names, keyed by the form field's name."""
    if isinstance(exc, ValidationError):
        found: dict[str, str] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
            if loc:
                found.setdefault(loc[0], field_reason(dict(err), page.lang))
        return found
    if isinstance(exc, Invalid):
        return {exc.field.split("[", 1)[0]: translate(exc.key, page.lang, **exc.params)}
    return {}


def _refusal_status(exc: DomainError | ValidationError) -> int:
    return exc.status if isinstance(exc, DomainError) else 422


# ------------------------------------------------------------------ the month calendar

@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    weekend: bool
    special: str  # "holiday" | "workday" (调休上班) | ""
    special_name: str
    items: list[InspectionLine] = field(default_factory=list)


def _month(raw: str | None, today: date) -> date:
    m = MONTH.fullmatch((raw or "").strip())
    if m and 2000 <= int(m.group(1)) <= 2100 and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    return today.replace(day=1)


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _special_days(page: Page, month: date, first: date, last: date) -> tuple[dict[date, tuple[bool, str]], bool]:
    """Holidays and make-up working days the working calendar knows; whether MONTH's year is provisional.

    The grid's first and last week may reach into the neighbouring year, whose
    days are marked too, but the warning is about the month shown.
    """
    days: dict[date, tuple[bool, str]] = {}
    provisional = False
    for year in range(first.year, last.year + 1):
        view = year_view(page.session, year)
        provisional = provisional or (view.provisional and year == month.year)
        days.update({d.day: (d.is_working, d.name) for d in view.days if first <= d.day <= last})
    return days, provisional


@router.get("/inspections")
def calendar_page(page: PageDep, month: str | None = None, format: str | None = None) -> Response:
    if page.user is None:
        return login_redirect(page)
    today = page.now().astimezone(page.settings.tz).date()
    first = _month(month, today)
    following = _shift(first, 1)
    if format == "xlsx":
        body = export_month(page.session, page.user, first, following - timedelta(days=1), language=page.lang,
                            timezone=page.settings.timezone)
        return xlsx_download(page, body, f"inspections-{first:%Y%m}")
    start = first - timedelta(days=first.weekday())
    end = following - timedelta(days=1)
    end += timedelta(days=6 - end.weekday())
    lines = listing.between(page.session, page.user, start, end)
    special, provisional = _special_days(page, first, start, end)
    days: dict[date, Day] = {}
    cursor = start
    while cursor <= end:
        working, name = special.get(cursor, (None, ""))
        days[cursor] = Day(day=cursor, in_month=cursor.month == first.month, today=cursor == today,
                           weekend=cursor.weekday() >= 5,
                           special="" if working is None else ("workday" if working else "holiday"),
                           special_name=name)
        cursor += timedelta(days=1)
    for line in lines:
        days[line.scheduled_on].items.append(line)
    ordered = list(days.values())
    weeks = [ordered[i:i + 7] for i in range(0, len(ordered), 7)]
    in_month = [line for line in lines if line.scheduled_on.month == first.month]
    return html(page, "inspections/calendar.html", weeks=weeks, first=first, today=today,
                prev_month=_shift(first, -1).strftime("%Y-%m"), next_month=following.strftime("%Y-%m"),
                this_month=today.strftime("%Y-%m"), export_url=f"/inspections?month={first:%Y-%m}&format=xlsx",
                month_count=len(in_month), provisional=provisional,
                names=department_names(page.session), can_schedule=page.user.role == Role.COORDINATOR)


# ------------------------------------------------------------------ scheduling

async def _participants(request: Request) -> list[str]:
    """Every ticked department (a checkbox list sends the same name once per box)."""
    return posted(request).getlist("participant_department_ids")[:60]


ParticipantsDep = Annotated[list[str], Depends(_participants)]


def _new_form(page: Page, *, status: int = 200, values: dict[str, str] | None = None,
              participants: list[str] | None = None, errors: dict[str, str] | None = None) -> Response:
    return html(page, "inspections/new.html", status=status, values=values or {},
                participants=set(participants or []), errors=errors or {},
                departments=active_departments(page.session), campaigns=campaign_choices(page.session),
                today=page.now().astimezone(page.settings.tz).date())


@router.get("/inspections/new")
def new_inspection_form(page: PageDep, case: str | None = None) -> Response:
    if page.user is None:
        return login_redirect(page)
    return _new_form(page, values={"case_id": (case or "").strip()[:40]})


def _case_id(session: Session, raw: str) -> int:
    """The case named by its reference (GZ-2026-000123) or its number; the domain then checks reach."""
    text = raw.strip()
    if REFERENCE.fullmatch(text):
        found = session.scalar(select(col(Case.id)).where(col(Case.reference) == text.upper()))
        if found is None:
            raise Invalid("case_id", "case_unknown", ids=text)
        return found
    if not text:
        raise Invalid("case_id", "field_required")
    number = parse_id(text)
    if number is None:
        raise Invalid("case_id", "case_unknown", ids=text)
    return number


@router.post("/inspections/new")
def schedule_inspection(page: PageDep, form: FormDep, participants: ParticipantsDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    try:
        values = form_values(form, *NEW_FIELDS)
        data = InspectionCreate(**{  # type: ignore[arg-type]
            **values,
            "case_id": _case_id(page.session, form.get("case_id", "")),
            "participant_department_ids": [p for p in participants if p.strip()],
            "recorded_after_fact": form.get("recorded_after_fact") == "1",
        })
        inspection = service.schedule(page.session, page.clock, page.user, data)
        url = f"/inspections/{inspection.id}"
        done(page, url)
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        if isinstance(exc, Unauthorized):
            return login_redirect(page)
        page.flashes.append(Flash("error", error_text(page, exc)))
        kept = {k: v for k, v in form.items() if k in (*NEW_FIELDS, "recorded_after_fact")}
        return _new_form(page, status=_refusal_status(exc), values=kept, participants=participants,
                         errors=field_errors(page, exc))
    return redirect_with_flash(page, url, N_("page.done.inspection_scheduled"))


# ------------------------------------------------------------------ one inspection

def detail_context(page: Page, inspection_id: int) -> dict[str, Any]:
    assert page.user is not None
    session, user = page.session, page.user
    inspection, case = service.get_with_case(session, user, inspection_id)
    public = service.to_public(session, inspection)
    items, _cursor = queries.list_assignments(session, user, page.now(), AssignmentFilter(inspection_id=inspection_id),
                                              sort="dispatched_at", limit=100)
    planned = inspection.status == InspectionStatus.PLANNED
    names = department_names(session)
    return {
        "inspection": public,
        "case": case,
        "campaign": session.get(Campaign, inspection.campaign_id) if inspection.campaign_id else None,
        "assignments": items,
        "names": names,
        "participants": [names.get(d, str(d)) for d in public.participant_department_ids],
        "people": user_names(session, {inspection.created_by}),
        "may_lead": planned and service.may_lead(user, inspection, case),
        "may_cancel": planned and can_manage_case(user, case),
        "open_form": None,
        "values": {},
        "errors": {},
    }


@router.get("/inspections/{inspection_id}")
def inspection_page(page: PageDep, inspection_id: str) -> Response:
    return detail_page(page, inspection_id, detail_context, "inspections/detail.html")


Run = Callable[[Session, User, int, int, dict[str, str]], object]


def act(page: Page, raw_id: str, form: dict[str, str], form_name: str, done_key: str, run: Run) -> Response:
    """Call the use case, commit, redirect; refused, show the page again with what was typed."""
    if page.user is None:
        return login_redirect(page)
    iid = parse_id(raw_id)
    if iid is None:
        return not_found(page)
    url = f"/inspections/{iid}"
    try:
        run(page.session, page.user, iid, form_version(form), form)
        done(page, url)
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        if isinstance(exc, Unauthorized):
            return login_redirect(page)
        if isinstance(exc, NotFound):
            return not_found(page)
        page.flashes.append(Flash("error", error_text(page, exc)))
        try:
            context = detail_context(page, iid)
        except NotFound:
            return not_found(page)
        context.update(open_form=form_name, errors=field_errors(page, exc),
                       values={k: v for k, v in form.items() if k not in ("csrf_token", "version")})
        return html(page, "inspections/detail.html", status=_refusal_status(exc), **context)
    return redirect_with_flash(page, url, done_key)


@router.post("/inspections/{inspection_id}/edit")
def edit_inspection(page: PageDep, inspection_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, iid: int, version: int, f: dict[str, str]) -> object:
        scheduled_on = f.get("scheduled_on", "").strip()
        if not scheduled_on:
            raise Invalid("scheduled_on", "field_required")
        data = InspectionUpdate(title=f.get("title", "").strip(), scheduled_on=scheduled_on,  # type: ignore[arg-type]
                                place=f.get("place", "").strip(), targets=f.get("targets", "").strip())
        return service.update(s, page.clock, u, iid, version, data)

    return act(page, inspection_id, form, "edit", N_("page.done.inspection_updated"), run)


@router.post("/inspections/{inspection_id}/record")
def record_findings(page: PageDep, inspection_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, iid: int, version: int, f: dict[str, str]) -> object:
        data = InspectionUpdate(record=f.get("record", "").strip())
        return service.update(s, page.clock, u, iid, version, data)

    return act(page, inspection_id, form, "record", N_("page.done.inspection_recorded"), run)


@router.post("/inspections/{inspection_id}/close")
def close_inspection(page: PageDep, inspection_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, iid: int, version: int, f: dict[str, str]) -> object:
        data = ReasonIn(**form_values(f, "reason"))  # type: ignore[arg-type]
        return service.close(s, page.clock, u, iid, version, data.reason)

    return act(page, inspection_id, form, "close", N_("page.done.inspection_closed"), run)


@router.post("/inspections/{inspection_id}/cancel")
def cancel_inspection(page: PageDep, inspection_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, iid: int, version: int, f: dict[str, str]) -> object:
        data = ReasonIn(**form_values(f, "reason"))  # type: ignore[arg-type]
        return service.cancel(s, page.clock, u, iid, version, data.reason)

    return act(page, inspection_id, form, "cancel", N_("page.done.inspection_cancelled"), run)


@router.get("/static/inspections.css")
def stylesheet() -> FileResponse:
    return FileResponse(STATIC_DIR / "inspections.css", media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})


# Labels the templates build from a value ("page.field." ~ name, "page.inspection.status." ~ status …):
# declared here so that extraction (make i18n) finds them.
_BUILT_KEYS = (
    N_("page.field.case_id"), N_("page.field.campaign_id"), N_("page.field.title"),
    N_("page.field.lead_department_id"), N_("page.field.participant_department_ids"),
    N_("page.field.scheduled_on"), N_("page.field.place"), N_("page.field.targets"), N_("page.field.record"),
    N_("page.field.recorded_after_fact"),
    N_("page.inspection.status.planned"), N_("page.inspection.status.done"),
    N_("page.inspection.status.cancelled"),
    N_("page.weekday.mon"), N_("page.weekday.tue"), N_("page.weekday.wed"), N_("page.weekday.thu"),
    N_("page.weekday.fri"), N_("page.weekday.sat"), N_("page.weekday.sun"),
)
