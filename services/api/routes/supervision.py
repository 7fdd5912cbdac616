"""催办 and 挂牌督办 (shared/supervision): the coordinator's notices on an open assignment."""

from __future__ import annotations

from fastapi import Response
from sqlmodel import Session

from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.assignments.models import Assignment
from shared.clock import Clock
from shared.scope import assignment_for_read
from shared.supervision import service
from shared.supervision.models import UrgeKind
from shared.supervision.schemas import UrgeIn, UrgePublic
from shared.users.models import User

router = api_router(tags=["assignments"], route_class=IdempotentRoute)


def _urge(kind: UrgeKind, assignment_id: int, body: UrgeIn | None, session: Session, clock: Clock,
          user: User, version: int, response: Response) -> UrgePublic:
    row = service.urge(session, clock, user, assignment_id, version, kind, body.note if body else None)
    session.commit()  # the after-commit hook wakes the relay: the emails are in the outbox
    a = session.get(Assignment, assignment_id)
    assert a is not None
    response.headers["ETag"] = etag(a.version)
    return UrgePublic.model_validate(row, from_attributes=True)


@router.post("/assignments/{assignment_id}/urge", response_model=UrgePublic, status_code=201,
             dependencies=[Idempotent])
def urge(assignment_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser, version: IfMatch,
         response: Response, body: UrgeIn | None = None) -> UrgePublic:
    """催办: the case's coordinator reminds the department now (email to its liaisons and heads);
    once per assignment and day (409 after)."""
    return _urge(UrgeKind.URGE, assignment_id, body, session, clock, user, version, response)


@router.post("/assignments/{assignment_id}/supervise", response_model=UrgePublic, status_code=201,
             dependencies=[Idempotent])
def supervise(assignment_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser, version: IfMatch,
              response: Response, body: UrgeIn | None = None) -> UrgePublic:
    """挂牌督办: the case's coordinator flags the assignment for supervision (督办 badge while open)
    and tells the department's liaisons and heads now; once per assignment and day (409 after)."""
    return _urge(UrgeKind.SUPERVISE, assignment_id, body, session, clock, user, version, response)


@router.get("/assignments/{assignment_id}/urges", response_model=list[UrgePublic])
def list_urges(assignment_id: IdPath, session: SessionDep, user: CurrentUser) -> list[UrgePublic]:
    """The assignment's 催办 and 挂牌督办, oldest first (whoever may read the assignment)."""
    a = assignment_for_read(session, user, assignment_id)
    return [UrgePublic.model_validate(u, from_attributes=True)
            for u in service.history(session, a.id)]  # type: ignore[arg-type]
