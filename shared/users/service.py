"""Users and sign-in: argon2 passwords, hashed opaque tokens, throttled sign-in, password changes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from shared import references
from shared.actors import Actor, audit_user, require_admin
from shared.clock import Clock
from shared.errors import Invalid, NotFound, Unauthorized
from shared.events import service as events
from shared.settings import Settings
from shared.users import throttle
from shared.users.models import AuthToken, NotifyMode, Role, User
from shared.users.passwords import hash_password, verify_password
from shared.versioning import bump, check_version


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost one argon2 hash."""
    return hash_password("not-a-real-password")


def token_hash(token: str) -> str:
    """What auth_token stores of a token: its sha256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_admits(expires_at: datetime, revoked: bool, user_active: bool, now: datetime) -> bool:
    """A token signs its user in while it is neither revoked nor expired and the account is active."""
    return not revoked and expires_at > now and user_active


def create_user(
    session: Session,
    clock: Clock,
    actor: Actor,
    *,
    username: str,
    name: str,
    email: str,
    department_id: int,
    role: Role,
    password: str,
    language: str = "zh-CN",
    notify_mode: NotifyMode = NotifyMode.DIGEST,
) -> User:
    """Add an account (admins; the CLI acts as SYSTEM)."""
    require_admin(actor)
    references.require_department(session, department_id, "department_id")
    if session.scalar(select(col(User.id)).where(col(User.username) == username)) is not None:  # type: ignore[arg-type]
        raise Invalid("username", "username_taken")
    if len(password) < 8:
        raise Invalid("password", "field_too_short", min=8)
    user = User(
        username=username,
        name=name,
        email=email,
        department_id=department_id,
        role=role,
        password_hash=hash_password(password),
        language=language,
        notify_mode=notify_mode,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    events.record(
        session, clock, audit_user(actor), "user", user.id, "created",
        after={"username": username, "role": role.value, "department_id": department_id},
    )
    return user


def authenticate(
    session: Session, clock: Clock, settings: Settings, username: str, password: str, client: str = ""
) -> User:
    """Check a password from CLIENT (its address); an address that keeps failing must wait (429).

    See shared/users/throttle.py: the wait is per account and address and per
    address, so an attacker is slowed and the account's owner still gets in.
    """
    throttle.check(session, clock, settings, username, client)
    user = session.scalar(select(User).where(User.username == username))  # type: ignore[arg-type]
    ok = verify_password(password, user.password_hash if user else _dummy_hash())
    ok = ok and user is not None and user.active
    throttle.record(session, clock, username, client, ok)
    if not ok or user is None:
        raise Unauthorized("bad_credentials")
    return user


def issue_token(session: Session, clock: Clock, settings: Settings, user: User) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        AuthToken(
            token_hash=token_hash(token),
            user_id=user.id,  # type: ignore[arg-type]
            created_at=now,
            expires_at=now + timedelta(hours=settings.token_ttl_hours),
        )
    )
    session.flush()
    return token


_USER_TABLE = User.__table__  # type: ignore[attr-defined]
_TOKEN_TABLE = AuthToken.__table__  # type: ignore[attr-defined]
_USER, _TOKEN = _USER_TABLE.c, _TOKEN_TABLE.c
_USER_FIELDS = tuple(User.model_fields)
# Every request signs in with this, so it is a Core statement of plain columns:
# the ORM's loading of an entity into the session cost twice the statement.
_SIGN_IN = (
    select(*(_USER[name] for name in _USER_FIELDS), _TOKEN.expires_at, _TOKEN.revoked)
    .join_from(_USER_TABLE, _TOKEN_TABLE, _TOKEN.user_id == _USER.id)
    .where(_TOKEN.token_hash == bindparam("token_hash"))
)


def token_row(session: Session, token: str) -> Any:
    """The token's user's columns with the token's `expires_at` and `revoked` (one statement), or None."""
    row = session.connection().execute(_SIGN_IN, {"token_hash": token_hash(token)}).first()
    return None if row is None else row._mapping


def user_from_row(values: Any, now: datetime) -> User:
    """The signed-in user of a token_row, or 401 when the token does not admit it now."""
    if values is None or not token_admits(values["expires_at"], values["revoked"], values["active"], now):
        raise Unauthorized()
    return User(**{name: values[name] for name in _USER_FIELDS})


def user_for_token(session: Session, clock: Clock, token: str) -> User:
    """The token's user, read afresh from the database.

    Requests sign in through shared.users.kept_tokens, which keeps what this
    reads while the database says nothing about it changed.  The User is built
    from the row, outside the session: a use case that changes a user reads it
    itself (update_user, update_preferences).
    """
    return user_from_row(token_row(session, token), clock.now())


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_hash(token)))  # type: ignore[arg-type]
    if row is not None:
        row.revoked = True
        session.flush()


def revoke_tokens(session: Session, user_id: int, *, keep_token: str | None = None) -> int:
    """Sign the user out everywhere (API tokens and page sessions alike), except KEEP_TOKEN."""
    stmt = update(AuthToken).where(col(AuthToken.user_id) == user_id, col(AuthToken.revoked).is_(False))
    if keep_token:
        stmt = stmt.where(col(AuthToken.token_hash) != token_hash(keep_token))
    return session.execute(stmt.values(revoked=True)).rowcount  # type: ignore[attr-defined, no-any-return]


def change_password(session: Session, clock: Clock, settings: Settings, actor: User, *, current_password: str,
                    new_password: str, keep_token: str | None, client: str = "") -> User:
    """A user changes his own password; his other tokens and sessions end, KEEP_TOKEN stays.

    The current password is checked like a sign-in (and throttled like one), so a
    borrowed session cannot be used to guess it.
    """
    throttle.check(session, clock, settings, actor.username, client)
    user = session.scalars(select(User).where(User.id == actor.id).with_for_update()).first()  # type: ignore[arg-type]
    if user is None or not user.active:
        raise Unauthorized()
    ok = verify_password(current_password, user.password_hash)
    if not ok:
        throttle.record(session, clock, user.username, client, False)
        raise Invalid("current_password", "current_password_wrong")
    if len(new_password) < 8:
        raise Invalid("new_password", "field_too_short", min=8)
    if new_password == current_password:
        raise Invalid("new_password", "password_unchanged")
    user.password_hash = hash_password(new_password)
    bump(user)
    revoke_tokens(session, user.id, keep_token=keep_token)  # type: ignore[arg-type]
    events.record(session, clock, actor, "user", user.id, "password_changed")
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


@dataclass(frozen=True)
class UserFilter:
    department_id: int | None = None
    role: Role | None = None
    active: bool | None = None


def list_users(session: Session, actor: User, f: UserFilter | None = None, *, after_id: int | None = None,
               limit: int | None = None) -> list[User]:
    """Admins see everyone; others see the people of their own department.  By id, from AFTER_ID on."""
    f = f or UserFilter()
    stmt = select(User).order_by(User.id)  # type: ignore[arg-type]
    if actor.role != Role.ADMIN:
        stmt = stmt.where(User.department_id == actor.department_id)  # type: ignore[arg-type]
    if f.department_id is not None:
        stmt = stmt.where(col(User.department_id) == f.department_id)
    if f.role is not None:
        stmt = stmt.where(col(User.role) == f.role)
    if f.active is not None:
        stmt = stmt.where(col(User.active).is_(f.active))
    if after_id is not None:
        stmt = stmt.where(col(User.id) > after_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def update_user(session: Session, clock: Clock, actor: User, user_id: int, version: int,
                changes: dict[str, object]) -> User:
    require_admin(actor)
    user = session.scalars(select(User).where(User.id == user_id).with_for_update()).first()  # type: ignore[arg-type]
    if user is None:
        raise NotFound()
    check_version(user, version)
    password = changes.pop("password", None)
    department_id = changes.get("department_id")
    if isinstance(department_id, int) and department_id != user.department_id:
        references.require_department(session, department_id, "department_id")
    before, after = events.diff(user, changes)
    if user.id == actor.id:
        # An admin cannot lock himself out, so the last admin always remains one.
        if after.get("active") is False:
            raise Invalid("active", "user_cannot_demote_self")
        if "role" in after and after["role"] != Role.ADMIN:
            raise Invalid("role", "user_cannot_demote_self")
    for name, value in after.items():
        setattr(user, name, value)
    if password:
        user.password_hash = hash_password(str(password))
        after["password"] = before["password"] = "***"
        revoke_tokens(session, user.id)  # type: ignore[arg-type]  # whoever held the old one is out
    if after:
        bump(user)
        events.record(session, clock, actor, "user", user.id, "updated", before=before, after=after)
    session.flush()
    return user


def update_preferences(session: Session, clock: Clock, actor: User, version: int,
                       changes: dict[str, object]) -> User:
    user = session.scalars(select(User).where(User.id == actor.id).with_for_update()).first()  # type: ignore[arg-type]
    assert user is not None
    check_version(user, version)
    opt_out = changes.get("notify_opt_out")
    if isinstance(opt_out, list):
        from shared.reminders.rules import MANDATORY_KINDS, OPTIONAL_KINDS

        if set(MANDATORY_KINDS) & set(opt_out):
            raise Invalid("notify_opt_out", "escalation_cannot_opt_out")
        unknown = sorted(set(opt_out) - set(OPTIONAL_KINDS))
        if unknown:
            raise Invalid("notify_opt_out", "field_not_allowed", allowed=", ".join(OPTIONAL_KINDS))
        changes["notify_opt_out"] = sorted(set(opt_out))
    before, after = events.diff(user, changes)
    for name, value in after.items():
        setattr(user, name, value)
    if after:
        bump(user)
        events.record(session, clock, actor, "user", user.id, "preferences_changed", before=before, after=after)
    session.flush()
    return user
