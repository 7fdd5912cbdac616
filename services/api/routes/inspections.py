from __future__ import annotations

from fastapi import Response
from sqlmodel import Session

from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.cases.schemas import ReasonIn
from shared.inspections import service
from shared.inspections.models import Inspection
from shared.inspections.schemas import InspectionCreate, InspectionPublic, InspectionUpdate

router = api_router(tags=["inspections"], route_class=IdempotentRoute)


def _respond(session: Session, inspection: Inspection, response: Response) -> InspectionPublic:
    session.commit()  # scheduling or cancelling notifies: the after-commit hook wakes the relay
    response.headers["ETag"] = etag(inspection.version)
    return service.to_public(session, inspection)


@router.post("/inspections", dependencies=[Idempotent], response_model=InspectionPublic, status_code=201)
def schedule_inspection(body: InspectionCreate, session: SessionDep, clock: ClockDep, user: CurrentUser,
                        response: Response) -> InspectionPublic:
    """联合检查: every participating department (the lead included) gets its own assignment."""
    return _respond(session, service.schedule(session, clock, user, body), response)


@router.get("/inspections/{inspection_id}", response_model=InspectionPublic)
def get_inspection(inspection_id: IdPath, session: SessionDep, user: CurrentUser,
                   response: Response) -> InspectionPublic:
    inspection = service.get(session, user, inspection_id)
    response.headers["ETag"] = etag(inspection.version)
    return service.to_public(session, inspection)


@router.patch("/inspections/{inspection_id}", response_model=InspectionPublic)
def update_inspection(inspection_id: IdPath, body: InspectionUpdate, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response) -> InspectionPublic:
    return _respond(session, service.update(session, clock, user, inspection_id, version, body), response)


@router.post("/inspections/{inspection_id}/close", response_model=InspectionPublic)
def close_inspection(inspection_id: IdPath, body: ReasonIn, session: SessionDep, clock: ClockDep,
                     user: CurrentUser, version: IfMatch, response: Response) -> InspectionPublic:
    """The lead closes it with a reason; still-open assignments are cancelled."""
    return _respond(session, service.close(session, clock, user, inspection_id, version, body.reason),
                    response)


@router.post("/inspections/{inspection_id}/cancel", response_model=InspectionPublic)
def cancel_inspection(inspection_id: IdPath, body: ReasonIn, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response) -> InspectionPublic:
    return _respond(session, service.cancel(session, clock, user, inspection_id, version, body.reason),
                    response)
