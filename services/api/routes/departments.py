from __future__ import annotations

from fastapi import Response

from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.departments import service
from shared.departments.service import DepartmentIn, DepartmentPublic, DepartmentUpdate

router = api_router(tags=["departments"], route_class=IdempotentRoute)


@router.get("/departments", response_model=list[DepartmentPublic])
def list_departments(session: SessionDep, _user: CurrentUser) -> list[DepartmentPublic]:
    """All departments (names are not secret: cases are shared between them)."""
    return [DepartmentPublic.model_validate(d, from_attributes=True) for d in service.list_departments(session)]


@router.post("/departments", dependencies=[Idempotent], response_model=DepartmentPublic, status_code=201)
def create_department(body: DepartmentIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
                      response: Response) -> DepartmentPublic:
    department = service.create(session, clock, user, body)
    session.commit()
    response.headers["ETag"] = etag(department.version)
    return DepartmentPublic.model_validate(department, from_attributes=True)


@router.patch("/departments/{department_id}", response_model=DepartmentPublic)
def update_department(department_id: IdPath, body: DepartmentUpdate, session: SessionDep, clock: ClockDep,
                      user: CurrentUser, version: IfMatch, response: Response) -> DepartmentPublic:
    department = service.update(session, clock, user, department_id, version, body)
    session.commit()
    response.headers["ETag"] = etag(department.version)
    return DepartmentPublic.model_validate(department, from_attributes=True)
