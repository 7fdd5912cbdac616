from __future__ import annotations

from fastapi import Request, Response
from pydantic import BaseModel, Field

from services.api.caching import NO_STORE, NO_STORE_HEADERS
from services.api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep, bearer_or_cookie
from services.api.routes import api_router
from services.api.signin import clear_session_cookie, client_address, set_session_cookie
from shared.errors import DomainError
from shared.inputs import Input
from shared.users import service as users
from shared.users.schemas import PasswordChangeIn, UserPublic

router = api_router(tags=["auth"], dependencies=[NO_STORE])


class LoginIn(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    user: UserPublic


@router.post("/auth/login", response_model=TokenOut, responses={429: {"description": "Too many failed sign-ins "
                                                                       "from this address; see Retry-After"}})
def login(body: LoginIn, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep,
          response: Response) -> TokenOut:
    """Sign in; returns a bearer token and sets the session cookie for the pages."""
    try:
        user = users.authenticate(session, clock, settings, body.username, body.password, client_address(request))
    except DomainError:
        session.commit()  # the failed attempt must count towards the throttle
        raise
    token = users.issue_token(session, clock, settings, user)
    session.commit()
    set_session_cookie(response, settings, token)
    return TokenOut(access_token=token, user=UserPublic.model_validate(user, from_attributes=True))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: SessionDep, settings: SettingsDep, _user: CurrentUser) -> Response:
    token = bearer_or_cookie(request)
    if token:
        users.revoke_token(session, token)
        session.commit()
    response = Response(status_code=204)
    clear_session_cookie(response, settings)
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/me/password", status_code=204)
def change_password(body: PasswordChangeIn, request: Request, session: SessionDep, clock: ClockDep,
                    settings: SettingsDep, user: CurrentUser) -> Response:
    """Change your own password; every other token and page session of yours ends, this one stays."""
    try:
        users.change_password(session, clock, settings, user, current_password=body.current_password,
                              new_password=body.new_password, keep_token=bearer_or_cookie(request),
                              client=client_address(request))
    except DomainError:
        session.commit()  # a wrong current password counts towards the sign-in throttle
        raise
    session.commit()
    return Response(status_code=204, headers=NO_STORE_HEADERS)
