from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query, Response
from sqlmodel import Session

from services.api.deps import ClockDep, CurrentUser, IdPath, IdQuery, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.assignments import queries, service
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.schemas import (
    AssignmentPage,
    AssignmentPublic,
    CancelIn,
    DecisionIn,
    DispatchIn,
    ExtensionIn,
    ExtensionPublic,
    FeedbackIn,
    FeedbackPublic,
    RedispatchIn,
    ReturnIn,
    ReviewIn,
    SendBackIn,
    SendBackSignoffIn,
    SignOffIn,
)
from shared.cases.models import CaseSource
from shared.clock import Clock
from shared.scope import assignment_for_read
from shared.users.models import User

router = api_router(tags=["assignments"], route_class=IdempotentRoute)


def _commit(session: Session, version: int, response: Response) -> None:
    session.commit()  # the after-commit hook wakes the relay if this change queued mail
    response.headers["ETag"] = etag(version)


def _respond(session: Session, clock: Clock, user: User, a: Assignment, response: Response) -> AssignmentPublic:
    _commit(session, a.version, response)
    return queries.get_public(session, a, clock.now(), user)


def _assignment_version(session: Session, assignment_id: int) -> int:
    """The version the service just wrote; the row is in the session, so this is not a query."""
    a = session.get(Assignment, assignment_id)
    assert a is not None
    return a.version


@router.post("/cases/{case_id}/assignments", response_model=AssignmentPublic, status_code=201,
             dependencies=[Idempotent])
def dispatch(case_id: IdPath, body: DispatchIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
             response: Response) -> AssignmentPublic:
    """派发: dispatch an assignment to a department; deadlines in working days."""
    a = service.dispatch(session, clock, user, case_id, body)
    return _respond(session, clock, user, a, response)


@router.get("/assignments", response_model=AssignmentPage)
def list_assignments(
    session: SessionDep, clock: ClockDep, user: CurrentUser,
    state: Annotated[list[AssignmentState] | None, Query()] = None,
    department_id: IdQuery = None,
    case_id: IdQuery = None,
    inspection_id: IdQuery = None,
    overdue: bool | None = None,
    due_before: datetime | None = None,
    campaign_id: IdQuery = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    source: CaseSource | None = None,
    needs_decision: bool | None = None,
    due_soon: Annotated[bool | None, Query(description="即将到期：计时中、未逾期、在预警窗口内到期")] = None,
    q: Annotated[str | None, Query(max_length=100, description="案件标题或企业名称")] = None,
    sort: Annotated[str, Query(description="feedback_due_at | -feedback_due_at | dispatched_at | "
                                           "-dispatched_at | -updated_at")] = "feedback_due_at",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    f = queries.AssignmentFilter(
        state=state, department_id=department_id, case_id=case_id, inspection_id=inspection_id,
        overdue=overdue, due_before=due_before, campaign_id=campaign_id, category=category,
        source=source.value if source else None, q=q, needs_decision=needs_decision,
        due_soon=due_soon,
    )
    items, next_cursor = queries.list_assignments(session, user, clock.now(), f, sort=sort,
                                                  cursor=cursor, limit=limit)
    body = AssignmentPage.model_construct(items=items, next_cursor=next_cursor)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get("/assignments/{assignment_id}", response_model=AssignmentPublic)
def get_assignment(assignment_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
                   response: Response) -> AssignmentPublic:
    a = assignment_for_read(session, user, assignment_id)
    response.headers["ETag"] = etag(a.version)
    return queries.get_public(session, a, clock.now(), user)


@router.post("/assignments/{assignment_id}/accept", response_model=AssignmentPublic)
def accept(assignment_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
           version: IfMatch, response: Response) -> AssignmentPublic:
    """签收"""
    return _respond(session, clock, user, service.accept(session, clock, user, assignment_id, version), response)


@router.post("/assignments/{assignment_id}/return", response_model=AssignmentPublic)
def return_assignment(assignment_id: IdPath, body: ReturnIn, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response) -> AssignmentPublic:
    """退回 with a coded reason."""
    a = service.return_assignment(session, clock, user, assignment_id, version, body)
    return _respond(session, clock, user, a, response)


@router.post("/assignments/{assignment_id}/redispatch", response_model=AssignmentPublic)
def redispatch(assignment_id: IdPath, body: RedispatchIn, session: SessionDep, clock: ClockDep,
               user: CurrentUser, version: IfMatch, response: Response) -> AssignmentPublic:
    """重新派发 / 审定 after a return."""
    a = service.redispatch(session, clock, user, assignment_id, version, body)
    return _respond(session, clock, user, a, response)


@router.post("/assignments/{assignment_id}/extensions", response_model=ExtensionPublic, status_code=201,
             dependencies=[Idempotent])
def request_extension(assignment_id: IdPath, body: ExtensionIn, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response) -> ExtensionPublic:
    """申请延期"""
    ext = service.request_extension(session, clock, user, assignment_id, version, body)
    _commit(session, _assignment_version(session, assignment_id), response)
    return ExtensionPublic.model_validate(ext, from_attributes=True)


@router.get("/assignments/{assignment_id}/extensions", response_model=list[ExtensionPublic])
def list_extensions(assignment_id: IdPath, session: SessionDep, user: CurrentUser) -> list[ExtensionPublic]:
    a = assignment_for_read(session, user, assignment_id)
    return [ExtensionPublic.model_validate(e, from_attributes=True)
            for e in service.extensions(session, a.id)]  # type: ignore[arg-type]


def _decide(approve: bool, assignment_id: IdPath, extension_id: IdPath, body: DecisionIn | None,
            session: Session, clock: Clock, user: CurrentUser, version: int,
            response: Response) -> ExtensionPublic:
    ext = service.decide_extension(session, clock, user, assignment_id, extension_id, version,
                                   approve=approve, comment=body.comment if body else None)
    _commit(session, _assignment_version(session, assignment_id), response)
    return ExtensionPublic.model_validate(ext, from_attributes=True)


@router.post("/assignments/{assignment_id}/extensions/{extension_id}/approve", response_model=ExtensionPublic)
def approve_extension(assignment_id: IdPath, extension_id: IdPath, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response,
                      body: DecisionIn | None = None) -> ExtensionPublic:
    """批准延期: the due date moves by the requested working days."""
    return _decide(True, assignment_id, extension_id, body, session, clock, user, version, response)


@router.post("/assignments/{assignment_id}/extensions/{extension_id}/deny", response_model=ExtensionPublic)
def deny_extension(assignment_id: IdPath, extension_id: IdPath, session: SessionDep, clock: ClockDep,
                   user: CurrentUser, version: IfMatch, response: Response,
                   body: DecisionIn | None = None) -> ExtensionPublic:
    return _decide(False, assignment_id, extension_id, body, session, clock, user, version, response)


@router.post("/assignments/{assignment_id}/feedback", response_model=FeedbackPublic, status_code=201,
             dependencies=[Idempotent])
def submit_feedback(assignment_id: IdPath, body: FeedbackIn, session: SessionDep, clock: ClockDep,
                    user: CurrentUser, version: IfMatch, response: Response) -> FeedbackPublic:
    """反馈: narrative and structured outcomes."""
    fb = service.submit_feedback(session, clock, user, assignment_id, version, body)
    _commit(session, _assignment_version(session, assignment_id), response)
    return FeedbackPublic.model_validate(fb, from_attributes=True)


@router.get("/assignments/{assignment_id}/feedback", response_model=list[FeedbackPublic])
def list_feedback(assignment_id: IdPath, session: SessionDep, user: CurrentUser) -> list[FeedbackPublic]:
    a = assignment_for_read(session, user, assignment_id)
    return [FeedbackPublic.model_validate(f, from_attributes=True)
            for f in service.feedback_history(session, a.id)]  # type: ignore[arg-type]


@router.post("/assignments/{assignment_id}/approve", response_model=AssignmentPublic)
def approve(assignment_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
            version: IfMatch, response: Response, body: ReviewIn | None = None) -> AssignmentPublic:
    """办结: approve the feedback."""
    a = service.approve(session, clock, user, assignment_id, version, body.comment if body else None)
    return _respond(session, clock, user, a, response)


@router.post("/assignments/{assignment_id}/send-back", response_model=AssignmentPublic)
def send_back(assignment_id: IdPath, body: SendBackIn, session: SessionDep, clock: ClockDep,
              user: CurrentUser, version: IfMatch, response: Response) -> AssignmentPublic:
    """退回重办"""
    a = service.send_back(session, clock, user, assignment_id, version, body.reason)
    return _respond(session, clock, user, a, response)


@router.post("/assignments/{assignment_id}/sign-off", response_model=AssignmentPublic)
def sign_off(assignment_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
             version: IfMatch, response: Response, body: SignOffIn | None = None) -> AssignmentPublic:
    """审签通过: the department head lets the feedback go on to the coordinator's review."""
    a = service.sign_off(session, clock, user, assignment_id, version, body.note if body else None)
    return _respond(session, clock, user, a, response)


@router.post("/assignments/{assignment_id}/send-back-signoff", response_model=AssignmentPublic)
def send_back_signoff(assignment_id: IdPath, body: SendBackSignoffIn, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response) -> AssignmentPublic:
    """审签退回: the department head returns the feedback to the liaison with a note."""
    a = service.send_back_signoff(session, clock, user, assignment_id, version, body.note)
    return _respond(session, clock, user, a, response)


@router.post("/assignments/{assignment_id}/cancel", response_model=AssignmentPublic)
def cancel(assignment_id: IdPath, body: CancelIn, session: SessionDep, clock: ClockDep,
           user: CurrentUser, version: IfMatch, response: Response) -> AssignmentPublic:
    a = service.cancel(session, clock, user, assignment_id, version, body.reason)
    return _respond(session, clock, user, a, response)
