from __future__ import annotations

from fastapi import Response

from services.api.caching import NO_STORE
from services.api.deps import ClockDep, CurrentUser, IdPath, IdQuery, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.users import service
from shared.users.models import Role
from shared.users.schemas import PreferencesIn, UserCreate, UserPublic, UserUpdate

router = api_router(tags=["users"], dependencies=[NO_STORE], route_class=IdempotentRoute)  # names and emails of staff


def _public(user: object) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, user: CurrentUser, department_id: IdQuery = None, role: Role | None = None,
               active: bool | None = None) -> list[UserPublic]:
    """Admins see everyone, others their own department; filtered by department, role and active."""
    f = service.UserFilter(department_id=department_id, role=role, active=active)
    return [_public(u) for u in service.list_users(session, user, f)]


@router.post("/users", dependencies=[Idempotent], response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, clock: ClockDep, user: CurrentUser,
                response: Response) -> UserPublic:
    """Admins only (the service refuses anyone else)."""
    created = service.create_user(
        session, clock, user, username=body.username, name=body.name, email=str(body.email),
        department_id=body.department_id, role=body.role, password=body.password,
        language=body.language,
    )
    session.commit()
    response.headers["ETag"] = etag(created.version)
    return _public(created)


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(user_id: IdPath, body: UserUpdate, session: SessionDep, clock: ClockDep, user: CurrentUser,
                version: IfMatch, response: Response) -> UserPublic:
    updated = service.update_user(session, clock, user, user_id, version, body.model_dump(exclude_unset=True))
    session.commit()
    response.headers["ETag"] = etag(updated.version)
    return _public(updated)


@router.patch("/me/preferences", response_model=UserPublic)
def update_preferences(body: PreferencesIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
                       version: IfMatch, response: Response) -> UserPublic:
    """Language, digest or immediate emails, and which reminder kinds to skip (督办 cannot be)."""
    updated = service.update_preferences(session, clock, user, version, body.model_dump(exclude_unset=True))
    session.commit()
    response.headers["ETag"] = etag(updated.version)
    return _public(updated)
