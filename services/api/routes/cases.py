from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query, Response
from sqlmodel import Session

from services.api.caching import NO_STORE, no_store
from services.api.deps import (
    ClockDep,
    CurrentUser,
    IdPath,
    IdQuery,
    IfMatch,
    LanguageDep,
    SessionDep,
    SettingsDep,
    etag,
)
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.cases import queries, service
from shared.cases.export import XLSX_MEDIA_TYPE, export_cases
from shared.cases.export import filename as export_filename
from shared.cases.models import Case, CaseSource, CaseStatus
from shared.cases.queries import CaseFilter, local_days
from shared.cases.schemas import (
    CaseCreate,
    CasePage,
    CasePublic,
    CaseUpdate,
    CommentIn,
    EventPage,
    EventPublic,
    ReasonIn,
    ShareIn,
)
from shared.cases.views import case_public
from shared.clock import Clock
from shared.events import service as events
from shared.scope import case_for_read
from shared.users.models import User

# Case answers can carry the complainant in full: never kept by a browser or proxy.
router = api_router(tags=["cases"], dependencies=[NO_STORE], route_class=IdempotentRoute)


def _respond(session: Session, clock: Clock, actor: User, case: Case, response: Response) -> CasePublic:
    body = case_public(session, clock, actor, case)
    session.commit()  # also commits the audit log row of an unmasked read
    response.headers["ETag"] = etag(case.version)
    return body


@router.post("/cases", dependencies=[Idempotent], response_model=CasePublic, status_code=201)
def create_case(body: CaseCreate, session: SessionDep, clock: ClockDep, user: CurrentUser,
                response: Response) -> CasePublic:
    """开案: open a case and share it with other departments (coordinators)."""
    case = service.create_case(session, clock, user, body)
    return _respond(session, clock, user, case, response)


@router.get("/cases", response_model=CasePage,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}},
                             "description": "The page, or with `format=xlsx` the same list as a workbook"}})
def list_cases(
    session: SessionDep, user: CurrentUser, clock: ClockDep, settings: SettingsDep, lang: LanguageDep,
    status: CaseStatus | None = None,
    campaign_id: IdQuery = None,
    category: str | None = Query(default=None, max_length=64),
    source: CaseSource | None = None,
    lead_department_id: IdQuery = None,
    typical: bool | None = None,
    overdue: Annotated[bool | None, Query(description="只看有逾期任务的案件")] = None,
    date_from: Annotated[date | None, Query(description="开案日期起（含）")] = None,
    date_to: Annotated[date | None, Query(description="开案日期止（含）")] = None,
    q: Annotated[str | None, Query(max_length=100,
                                   description="案件编号、信用代码、投诉人电话、标题或企业名称")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    format: Annotated[Literal["json", "xlsx"],
                      Query(description="xlsx: the whole list (capped) as a workbook")] = "json",
) -> CasePage | Response:
    """Cases you can see, newest first, with keyset pagination; search by shape (shared/cases/queries.py)."""
    created_from, created_before = local_days(date_from, date_to, settings.tz)
    f = CaseFilter(status=status, campaign_id=campaign_id, category=category, source=source,
                   lead_department_id=lead_department_id, typical=typical, q=q, overdue=overdue or None,
                   created_from=created_from, created_before=created_before)
    now = clock.now()
    if format == "xlsx":
        body = export_cases(session, user, f, now=now, language=lang, timezone=settings.timezone)
        workbook = Response(body, media_type=XLSX_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{export_filename("cases", now)}"'})
        no_store(workbook)
        return workbook
    rows, next_cursor = queries.list_cases(session, user, f, cursor=cursor, limit=limit, now=now)
    # Encoded here: the rows are CaseSummary already, and FastAPI would validate each again (a tenth of
    # a search's time).  An answer returned whole skips the headers NO_STORE set, so they are set on it.
    page = Response(CasePage(items=rows, next_cursor=next_cursor).model_dump_json(), media_type="application/json")
    no_store(page)
    return page


@router.get("/cases/{case_id}", response_model=CasePublic)
def get_case(case_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
             response: Response) -> CasePublic:
    """One case; complainant data masked unless you are its lead department or a coordinator."""
    return _respond(session, clock, user, case_for_read(session, user, case_id), response)


@router.patch("/cases/{case_id}", response_model=CasePublic)
def update_case(case_id: IdPath, body: CaseUpdate, session: SessionDep, clock: ClockDep,
                user: CurrentUser, version: IfMatch, response: Response) -> CasePublic:
    case = service.update_case(session, clock, user, case_id, version, body)
    return _respond(session, clock, user, case, response)


@router.post("/cases/{case_id}/share", response_model=CasePublic)
def share_case(case_id: IdPath, body: ShareIn, session: SessionDep, clock: ClockDep,
               user: CurrentUser, version: IfMatch, response: Response) -> CasePublic:
    """共享: make the case visible to more departments."""
    case = service.share_case(session, clock, user, case_id, version, body.department_ids)
    return _respond(session, clock, user, case, response)


@router.post("/cases/{case_id}/close", response_model=CasePublic)
def close_case(case_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
               version: IfMatch, response: Response, body: ReasonIn | None = None) -> CasePublic:
    """结案: only when no assignment is still open."""
    case = service.close_case(session, clock, user, case_id, version, body.reason if body else None)
    return _respond(session, clock, user, case, response)


@router.post("/cases/{case_id}/reopen", response_model=CasePublic)
def reopen_case(case_id: IdPath, body: ReasonIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
                version: IfMatch, response: Response) -> CasePublic:
    case = service.reopen_case(session, clock, user, case_id, version, body.reason)
    return _respond(session, clock, user, case, response)


@router.post("/cases/{case_id}/comments", dependencies=[Idempotent], status_code=204)
def comment_case(case_id: IdPath, body: CommentIn, session: SessionDep, clock: ClockDep,
                 user: CurrentUser) -> Response:
    service.comment(session, clock, user, case_id, body.text)
    session.commit()
    return Response(status_code=204)


@router.get("/cases/{case_id}/timeline", response_model=EventPage)
def case_timeline(
    case_id: IdPath, session: SessionDep, user: CurrentUser,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """What happened to the case and its assignments, newest first; page back with `cursor`."""
    case = case_for_read(session, user, case_id)
    rows, next_cursor = events.timeline(session, case.id, before=cursor, limit=limit)  # type: ignore[arg-type]
    return EventPage(items=[EventPublic.model_validate(e, from_attributes=True) for e in rows],
                     next_cursor=next_cursor)
