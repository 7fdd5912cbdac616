from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy import select
from sqlmodel import Session, col

from shared.clock import Clock
from shared.departments.models import Department, DepartmentKind
from shared.errors import Invalid, NotFound
from shared.events import service as events
from shared.inputs import Input
from shared.scope import require_role
from shared.users.models import Role, User
from shared.versioning import bump, check_version


class DepartmentIn(Input):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    kind: DepartmentKind = DepartmentKind.OTHER
    email: str | None = Field(default=None, max_length=254)
    signoff_required: bool = False


class DepartmentUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: DepartmentKind | None = None
    email: str | None = Field(default=None, max_length=254)
    active: bool | None = None
    signoff_required: bool | None = None


class DepartmentPublic(DepartmentIn):
    id: int
    version: int
    active: bool
    created_at: datetime


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.id)))  # type: ignore[arg-type]


def create(session: Session, clock: Clock, actor: User, data: DepartmentIn) -> Department:
    require_role(actor, Role.ADMIN)
    if session.scalar(select(col(Department.id)).where(col(Department.code) == data.code)) is not None:  # type: ignore[arg-type]
        raise Invalid("code", "code_taken")
    department = Department(**data.model_dump(), created_at=clock.now())
    session.add(department)
    session.flush()
    events.record(session, clock, actor, "department", department.id, "created", after=data.model_dump())
    return department


def update(session: Session, clock: Clock, actor: User, department_id: int, version: int,
           data: DepartmentUpdate) -> Department:
    require_role(actor, Role.ADMIN)
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound()
    check_version(department, version)
    before, after = events.diff(department, data.model_dump(exclude_unset=True))
    for name, value in after.items():
        setattr(department, name, value)
    if after:
        bump(department)
        events.record(session, clock, actor, "department", department.id, "updated", before=before, after=after)
    session.flush()
    return department
