from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from services.api.deps import (
    SESSION_COOKIE,
    ClockDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    bearer_or_cookie,
)
from shared.users import service as users
from shared.users.schemas import UserPublic

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    user: UserPublic


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, session: SessionDep, clock: ClockDep, settings: SettingsDep,
          response: Response) -> TokenOut:
    """Sign in; returns a bearer token and sets the session cookie for the pages."""
    try:
        user = users.authenticate(session, clock, settings, body.username, body.password)
    except Exception:
        session.commit()  # the failed attempt must count towards the throttle
        raise
    token = users.issue_token(session, clock, settings, user)
    session.commit()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        max_age=settings.token_ttl_hours * 3600)
    return TokenOut(access_token=token, user=UserPublic.model_validate(user, from_attributes=True))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: SessionDep, _user: CurrentUser) -> Response:
    token = bearer_or_cookie(request)
    if token:
        users.revoke_token(session, token)
        session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)
