"""Sign-in with kept tokens: bearer token (or session cookie) → signed-in user, 0 statements when kept.

Every request signs in (services.api.deps.get_current_user, the pages'
get_page), and almost every one with a token it used a moment ago.  On
PostgreSQL each process keeps, per token hash, the user it signs in and the
token's expiry (shared.invalidation.Kept, subject: the user).  The database
drops the copy the moment anything it was read from changes, in whichever
process or script it commits: the user row (role, department, deactivation, a
new password — every column) or any of the user's tokens (revoked, deleted),
so each of those counts at the next request.  Expiry is checked against the
clock on every request (shared.users.service.token_admits).  A token that does
not sign in is never kept: each try reads the database.

The kept User is the one object every request of that token gets: it is never
attached to a session and never changed (a use case that changes a user reads
it itself, shared.users.service.update_user).

On SQLite (no NOTIFY) nothing is kept and every request reads the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from shared import invalidation
from shared.clock import Clock
from shared.users import service as users
from shared.users.models import User

KEPT_PER_PROCESS = 10_000  # tokens; the oldest kept is dropped beyond it


@dataclass(frozen=True, slots=True)
class _Kept:
    user: User
    expires_at: datetime


def _store(engine: Engine) -> invalidation.Kept[str, _Kept] | None:
    return invalidation.kept(engine, "tokens", invalidation.USER, KEPT_PER_PROCESS)


def kept_user(engine: Engine, token: str, now: datetime) -> User | None:
    """The token's user without a statement, when kept and still admitted at NOW; else None (read it)."""
    store = _store(engine)
    if store is None:
        return None
    hit = store.get(users.token_hash(token))
    if hit is None:
        return None
    # Revocation and deactivation drop the copy; only time can end a kept one.
    if not users.token_admits(hit.expires_at, False, True, now):
        store.discard(users.token_hash(token))
        return None
    return hit.user


def user_for_token(session: Session, clock: Clock, token: str) -> User:
    """The token's user: kept, or read (one statement) and kept; 401 when the token does not sign in."""
    engine = session.get_bind().engine
    now = clock.now()
    user = kept_user(engine, token, now)
    if user is not None:
        return user
    store = _store(engine)
    ticket = store.ticket() if store is not None else None
    values = users.token_row(session, token)
    user = users.user_from_row(values, now)
    if store is not None:
        store.put(ticket, users.token_hash(token), user.id, _Kept(user, values["expires_at"]))  # type: ignore[arg-type]
    return user
