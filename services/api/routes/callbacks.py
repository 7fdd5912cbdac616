"""回访: satisfaction callbacks on complaint cases, and 重办 after an unsatisfied, unresolved one."""

from __future__ import annotations

from fastapi import Response
from sqlmodel import Session

from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.callbacks import service
from shared.callbacks.models import Callback
from shared.callbacks.schemas import CallbackIn, CallbackPublic, ReworkIn

router = api_router(tags=["callbacks"], route_class=IdempotentRoute)


def _public(cb: Callback) -> CallbackPublic:
    return CallbackPublic.model_validate({**cb.model_dump(), "reworkable": service.reworkable(cb)})


def _respond(session: Session, cb: Callback, response: Response) -> CallbackPublic:
    body = _public(cb)
    session.commit()
    response.headers["ETag"] = etag(cb.version)
    return body


@router.post("/cases/{case_id}/callbacks", response_model=CallbackPublic, status_code=201,
             dependencies=[Idempotent])
def record_callback(case_id: IdPath, body: CallbackIn, session: SessionDep, clock: ClockDep,
                    user: CurrentUser, response: Response) -> CallbackPublic:
    """回访: after approved feedback on a complaint case (来源 12315 热线或网络平台), by the case's
    coordinator or its lead department.  Reached: satisfaction and resolved are required; not
    reached: neither may be given."""
    cb = service.record_callback(session, clock, user, case_id, body)
    return _respond(session, cb, response)


@router.get("/cases/{case_id}/callbacks", response_model=list[CallbackPublic])
def list_callbacks(case_id: IdPath, session: SessionDep, user: CurrentUser) -> list[CallbackPublic]:
    """The case's callbacks, oldest first."""
    return [_public(cb) for cb in service.list_callbacks(session, user, case_id)]


@router.get("/callbacks/{callback_id}", response_model=CallbackPublic)
def get_callback(callback_id: IdPath, session: SessionDep, user: CurrentUser,
                 response: Response) -> CallbackPublic:
    cb = service.get_callback(session, user, callback_id)
    response.headers["ETag"] = etag(cb.version)
    return _public(cb)


@router.post("/callbacks/{callback_id}/rework", response_model=CallbackPublic)
def rework(callback_id: IdPath, body: ReworkIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
           version: IfMatch, response: Response) -> CallbackPublic:
    """重办 in one step (the case's coordinator): after an unsatisfied and unresolved callback,
    reopen the case if closed and send the approved assignment back to its department, accepted
    again with a new feedback due date; the department is emailed as for a send-back."""
    cb = service.rework(session, clock, user, callback_id, version, body)
    return _respond(session, cb, response)
