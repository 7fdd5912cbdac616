"""Case pages (案件): the list with filters and keyset pagination, and one case in full.

The list calls shared.cases.queries.list_cases, as the API does, so filters and
scoping give the same rows.  The case page is given shared.cases.views.case_public,
never the Case row: the complainant is masked before the template sees anything,
and an unmasked read is written to the audit log (committed with the page view).
The timeline shows the newest entries and pages back with ``?before=``.
A refused form goes through conflicts.refuse: when someone else changed the case
first, the page shows what they changed next to what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from services.api.pages import callbacks, conflicts, dispatch, intake, timeline
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
    parse_optional_id,
    redirect_with_flash,
    xlsx_download,
)
from services.api.path_gate import PathGate
from shared.assignments import queries
from shared.assignments.queries import AssignmentFilter
from shared.attachments.service import list_for_case
from shared.campaigns.models import Campaign
from shared.cases import service
from shared.cases.export import export_cases
from shared.cases.models import CaseSource, CaseStatus
from shared.cases.permissions import may_open_case
from shared.cases.queries import CaseFilter, list_cases, local_days
from shared.cases.schemas import CasePublic, CommentIn, ReasonIn
from shared.cases.views import case_public
from shared.errors import DomainError, Invalid
from shared.events import service as events
from shared.i18n import N_, state_label
from shared.scope import can_manage_case, case_for_read
from shared.templating import KeptMacro
from shared.users.models import Role, User
from shared.users.names import user_names

router = PathGate()

PAGE_SIZE = 30
TIMELINE_PAGE_SIZE = 100
ASSIGNMENTS_SHOWN = 200
# A list row is the same for the same case, lead department, language and time zone: kept, not re-rendered;
# the head, the same for a language.
CASE_ROW = KeptMacro("pages/cases/_rows.html", "row")
CASE_HEAD = KeptMacro("pages/cases/_rows.html", "head")


def _choice(value: str | None, allowed: type[CaseStatus] | type[CaseSource]) -> Any:
    try:
        return allowed(value) if value else None
    except ValueError:
        return None


def _day(page: Page, name: str, value: str | None) -> date | None:
    """A yyyy-mm-dd filter; anything else is said (naming the field) and left out."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        page.flashes.append(Flash("error", error_text(page, Invalid(name, "field_invalid"))))
        return None


@router.get("/cases")
def cases_page(page: PageDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    # Read as text straight from the address (each one is checked below, and a bad one is said or left
    # out): declared one by one, FastAPI's validation of twelve parameters cost 7 % of the page.
    params = page.request.query_params
    status, source, category = params.get("status"), params.get("source"), params.get("category")
    lead_department_id, campaign_id = params.get("lead_department_id"), params.get("campaign_id")
    typical, overdue, q, cursor = params.get("typical"), params.get("overdue"), params.get("q"), params.get("cursor")
    date_from, date_to, format = params.get("date_from"), params.get("date_to"), params.get("format")
    first, last = _day(page, "date_from", date_from), _day(page, "date_to", date_to)
    filters: dict[str, Any] = {
        "status": _choice(status, CaseStatus),
        "source": _choice(source, CaseSource),
        "category": (category or "").strip()[:64] or None,
        "lead_department_id": parse_optional_id(lead_department_id),
        "campaign_id": parse_optional_id(campaign_id),
        "typical": True if typical == "1" else None,
        "overdue": True if overdue == "1" else None,
        "q": (q or "").strip()[:100] or None,
    }
    created_from, created_before = local_days(first, last, page.settings.tz)
    case_filter = CaseFilter(**filters, created_from=created_from, created_before=created_before)
    now = page.now()
    if format == "xlsx":
        body = export_cases(page.session, page.user, case_filter, now=now, language=page.lang,
                            timezone=page.settings.timezone)
        return xlsx_download(page, body, "cases")
    try:
        items, next_cursor = list_cases(page.session, page.user, case_filter, cursor=cursor or None,
                                        limit=PAGE_SIZE, now=now)
    except Invalid as exc:  # a cursor someone edited: show the first page and say so
        page.session.rollback()
        page.flashes.append(Flash("error", error_text(page, exc)))
        items, next_cursor = list_cases(page.session, page.user, case_filter, limit=PAGE_SIZE, now=now)
    query = {k: (v.value if hasattr(v, "value") else ("1" if v is True else v))
             for k, v in filters.items() if v is not None}
    if first:
        query["date_from"] = first.isoformat()
    if last:
        query["date_to"] = last.isoformat()
    next_url = f"/cases?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else None
    names = department_names(page.session)
    rows = CASE_ROW.many(page.lang, page.settings.timezone, ((c, names.get(c.lead_department_id, "")) for c in items))
    return html(page, "cases/list.html", head=CASE_HEAD(page.lang, page.settings.timezone), rows=rows,
                next_url=next_url, filters=query,
                first_url=f"/cases?{urlencode(query)}", export_url=f"/cases?{urlencode({**query, 'format': 'xlsx'})}",
                paged=bool(cursor),
                departments=active_departments(page.session), statuses=[s.value for s in CaseStatus],
                sources=[s.value for s in CaseSource], campaigns=campaign_choices(page.session),
                may_open=may_open_case(page.user))


def _timeline(page: Page, case_id: int) -> tuple[list[Any], str | None, bool]:
    """The newest entries, or the ones before ``?before=``; an edited cursor shows the newest."""
    before = (page.request.query_params.get("before") or "")[:200] or None
    try:
        rows, older = events.timeline(page.session, case_id, before=before, limit=TIMELINE_PAGE_SIZE)
    except Invalid:
        rows, older = events.timeline(page.session, case_id, limit=TIMELINE_PAGE_SIZE)
        before = None
    return rows, older, before is not None


def detail_context(page: Page, case_id: int) -> dict[str, Any]:
    assert page.user is not None
    session, user, now = page.session, page.user, page.now()
    case = case_for_read(session, user, case_id)
    items, more = queries.list_assignments(session, user, now, AssignmentFilter(case_id=case_id),
                                           sort="dispatched_at", limit=ASSIGNMENTS_SHOWN)
    # Masked for this user; the row goes no further.
    view = case_public(session, page.clock, user, case, all_states=None if more else [a.state for a in items])
    del case
    trail, older, paged = _timeline(page, view.id)
    names = department_names(session)
    actors: set[int | None] = {e.actor_id for e in trail}
    people = user_names(session, actors | {view.coordinator_id})
    manager = can_manage_case(user, view)
    complainant = view.complainant
    campaign = session.get(Campaign, view.campaign_id) if view.campaign_id else None
    return {
        "case": view,
        "complainant": complainant,
        "has_complainant": any((complainant.name, complainant.phone, complainant.id_number, complainant.address)),
        "shared_with": [names.get(i, str(i)) for i in view.shared_with],
        "open_count": view.open_assignments,
        "assignments": items,
        "timeline": timeline.lines(trail, page.lang, page.settings.timezone, names, people),
        "timeline_older_url": f"/cases/{view.id}?{urlencode({'before': older})}#tl-h" if older else None,
        "timeline_paged": paged,
        "attachments": list_for_case(session, user, view.id),
        "campaign": campaign,
        "names": names,
        "people": people,
        "manager": manager,
        "can_comment": user.role != Role.LEADER,
        "departments": active_departments(session) if manager else (),
        "open_form": None,
        "values": {},
        "snapshot": snapshot(page, view, items, names, campaign.name if campaign else "",
                             # The whole timeline is on the page: its newest event is known.
                             last_event_id=max((e.id for e in trail), default=0) if not (older or paged) else None),
        **callbacks.section(page, view, items),
        **intake.section(page, view),
        **dispatch.section(page, view, manager),
    }


def snapshot(page: Page, case: CasePublic, assignments: list[Any], names: Mapping[int, str],
             campaign: str, *, last_event_id: int | None = None) -> conflicts.Snapshot:
    """What the case page shows that someone else may change while a form is being filled in."""
    t, lang = page.gettext, page.lang
    dash = t("page.dash")
    sep = "、" if lang == "zh-CN" else ", "
    work = sep.join(f"{names.get(a.department_id, '')} #{a.id} {state_label(str(a.state), lang)}"
                    for a in assignments)
    shown = conflicts.Shown
    fields = [
        shown("status", t("page.case.status"), t(f"page.status.{case.status}"), raw=str(case.status)),
        shown("title", t("page.col.title"), case.title),
        shown("category", t("page.case.category"), case.category),
        shown("source", t("page.case.source"), t(f"page.source.{case.source}"), raw=str(case.source)),
        shown("priority", t("page.case.priority"), t(f"page.priority.{case.priority}"), raw=str(case.priority)),
        shown("region", t("page.case.region"), case.region or dash, raw=case.region),
        shown("enterprise", t("page.case.enterprise"), case.enterprise_name or dash, raw=case.enterprise_name or ""),
        shown("credit_code", t("page.case.credit_code"), case.enterprise_credit_code or dash,
              raw=case.enterprise_credit_code or ""),
        shown("lead", t("page.case.lead"), names.get(case.lead_department_id, ""), raw=str(case.lead_department_id)),
        shown("campaign", t("page.case.campaign"), campaign or dash, raw=str(case.campaign_id)),
        shown("typical", t("page.badge.typical"),
              t(N_("page.conflict.yes")) if case.is_typical else t(N_("page.conflict.no")), raw=str(case.is_typical)),
        shown("shared", t("page.case.shared"), sep.join(names.get(i, str(i)) for i in case.shared_with) or dash,
              raw=",".join(str(i) for i in sorted(case.shared_with))),
        shown("description", t("page.case.description"), case.description or dash, raw=case.description),
        shown("assignments", t("page.case.assignments"), work or dash,
              raw=",".join(f"{a.id}:{a.state}:{a.department_id}" for a in assignments)),
    ]
    return conflicts.snapshot(page.session, fields, conflicts.EventScope(case_id=case.id), last_event_id=last_event_id)


@router.get("/cases/{case_id}")
def case_page(page: PageDep, case_id: str) -> Response:
    return detail_page(page, case_id, detail_context, "cases/detail.html")


Run = Callable[[Session, User, int, dict[str, str]], object]


def act(page: Page, raw_id: str, form: dict[str, str], form_name: str, done_key: str, run: Run) -> Response:
    """Call the service, commit, redirect (the router checked the form's token)."""
    if page.user is None:
        return login_redirect(page)
    cid = parse_id(raw_id)
    if cid is None:
        return not_found(page)
    try:
        run(page.session, page.user, cid, form)
        done(page, f"/cases/{cid}")
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        departments = {str(k): v for k, v in department_names(page.session).items()}
        return conflicts.refuse(page, exc, form=form, form_name=form_name, template="cases/detail.html",
                                context=lambda: detail_context(page, cid), offered=lambda c: _offers(c, form_name),
                                choices={"department_id": departments})
    return redirect_with_flash(page, f"/cases/{cid}", done_key)


def _offers(context: dict[str, Any], form_name: str) -> bool:
    """Whether the case page, as it is now, shows the form FORM_NAME (as cases/detail.html decides)."""
    is_open = context["case"].status == CaseStatus.OPEN
    return {
        "comment": context["can_comment"],
        "dispatch": context["manager"] and is_open,
        "close": context["manager"] and is_open,
        "reopen": context["manager"] and not is_open,
    }.get(form_name, True)


@router.post("/cases/{case_id}/comment")
def comment(page: PageDep, case_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, cid: int, f: dict[str, str]) -> object:
        data = CommentIn(**form_values(f, "text"))  # type: ignore[arg-type]
        service.comment(s, page.clock, u, cid, data.text)
        return None

    return act(page, case_id, form, "comment", N_("page.done.comment"), run)


# POST /cases/{case_id}/dispatch (主办 and 协办, with the due dates shown first): services/api/pages/dispatch.py


@router.post("/cases/{case_id}/close")
def close(page: PageDep, case_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, cid: int, f: dict[str, str]) -> object:
        note = form_values(f, "note").get("note")
        return service.close_case(s, page.clock, u, cid, form_version(f), note[:2000] if note else None)

    return act(page, case_id, form, "close", N_("page.done.close"), run)


@router.post("/cases/{case_id}/reopen")
def reopen(page: PageDep, case_id: str, form: FormDep) -> Response:
    def run(s: Session, u: User, cid: int, f: dict[str, str]) -> object:
        data = ReasonIn(**form_values(f, "reason"))  # type: ignore[arg-type]
        return service.reopen_case(s, page.clock, u, cid, form_version(f), data.reason)

    return act(page, case_id, form, "reopen", N_("page.done.reopen"), run)
