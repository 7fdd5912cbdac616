"""FastAPI dependencies: session, clock, settings, the signed-in user, If-Match, language."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from shared.clock import Clock
from shared.errors import PreconditionRequired, Stale, Unauthorized
from shared.i18n import pick_language
from shared.ids import MAX_ID
from shared.settings import Settings
from shared.users import kept_tokens
from shared.users.models import User

SESSION_COOKIE = "gongzhi_session"


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` one in
# the thread pool, and each hop there costs more than the work (GIL hand-over).


@asynccontextmanager
async def open_session(engine: Engine) -> AsyncIterator[Session]:
    """A request's session, closed when the request is done (SessionDep, and the pages' PageDep)."""
    # Opening a session connects nothing; closing it may roll back on the wire.
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:  # never used (a kept answer): nothing to say to the database
            session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    async with open_session(request.app.state.engine) as session:
        yield session


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_or_cookie(request: Request) -> str | None:
    """The bearer token, or the pages' session cookie for reads only.

    A browser attaches the cookie to any request it makes, so a change through
    the JSON API must carry the token explicitly; the pages have their own
    CSRF-protected forms.
    """
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    if request.method in SAFE_METHODS:
        return request.cookies.get(SESSION_COOKIE)
    return None


async def get_current_user(request: Request) -> User:
    """The one sign-in of every route: the token's user kept (no statement, no thread) or read and kept.

    shared.users.kept_tokens decides what may be kept and the database says
    when it no longer holds, so revocation, deactivation and a new password or
    role count at the next request.
    """
    token = bearer_or_cookie(request)
    if not token:
        raise Unauthorized()
    state = request.app.state
    user = kept_tokens.kept_user(state.engine, token, state.clock.now())
    if user is None:
        user = await run_in_threadpool(_read_token, state.engine, state.clock, token)
    request.state.user = user
    return user


def _read_token(engine: Engine, clock: Clock, token: str) -> User:
    with Session(engine, expire_on_commit=False) as session:
        return kept_tokens.user_for_token(session, clock, token)


CurrentUser = Annotated[User, Depends(get_current_user)]

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


async def if_match(
    if_match: Annotated[
        str | None,
        Header(description='The version you read, from the ETag: "3". Required on every change.'),
    ] = None,
) -> int:
    """The version the client read.

    Missing: 428 — the change is refused until the client says what it read.
    `*` ("any version"): 428 as well — it is a precondition in form only, it
    names no version, so the lost-update check would have nothing to compare.
    Anything else that is not one of our ETags (`"abc"`): 412 — the client did
    send a precondition, and it does not hold for this record.
    """
    if if_match is None or not if_match.strip():
        raise PreconditionRequired()
    if if_match.strip() == "*":
        raise PreconditionRequired("if_match_any")
    m = _ETAG.match(if_match)
    if m is None:
        raise Stale("if_match_unknown")
    return int(m.group(1))


IfMatch = Annotated[int, Depends(if_match)]


async def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


LanguageDep = Annotated[str, Depends(language)]


def etag(version: int) -> str:
    return f'"{version}"'


IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
