"""Calendar feeds (日历订阅): make, list, revoke, and find the feed a secret address names.

A feed is read as its owner: the owner's visibility (shared/scope.py) decides
what it may contain, at every fetch.  A department feed stays valid only while
its owner is still the head of that department; an owner signed out for good
(inactive) takes his feeds with him.  Any of these answers "no such feed",
which the address turns into a 404 — the same as a token never issued.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from shared.calendar_feeds.models import CalendarFeed, FeedKind
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import service as events
from shared.i18n import N_
from shared.users.models import Role, User
from shared.users.service import token_hash

# What secrets.token_urlsafe(32) gives: anything else is not worth a lookup.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_ACTIVE_PER_USER = 10


def _record(session: Session, clock: Clock, actor: User, feed: CalendarFeed, action: str) -> None:
    events.record(session, clock, actor, "calendar_feed", feed.id, action,
                  after={"kind": feed.kind.value, "department_id": feed.department_id})


def may_make_department_feed(actor: User) -> bool:
    return actor.role == Role.HEAD


def create(session: Session, clock: Clock, actor: User, kind: FeedKind) -> tuple[CalendarFeed, str]:
    """A new feed and its secret token (shown once: only its hash is kept).

    Anyone signed in may subscribe to his own calendar; a department's calendar
    is made by its head.
    """
    department_id: int | None = None
    if kind == FeedKind.DEPARTMENT:
        if not may_make_department_feed(actor):
            raise Forbidden()
        department_id = actor.department_id
    if len(active_for(session, actor)) >= MAX_ACTIVE_PER_USER:
        raise Conflict(N_("calendar_feed_limit"), limit=MAX_ACTIVE_PER_USER)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(token_hash=token_hash(token), kind=kind, user_id=actor.id,  # type: ignore[arg-type]
                        department_id=department_id, created_at=clock.now())
    session.add(feed)
    session.flush()
    _record(session, clock, actor, feed, "created")
    session.flush()
    return feed, token


def _manageable(actor: User) -> object:
    """The feeds ACTOR may see in his settings and revoke: his own, and (a head) his department's."""
    own = col(CalendarFeed.user_id) == actor.id
    if actor.role != Role.HEAD:
        return own
    return or_(own, and_(col(CalendarFeed.kind) == FeedKind.DEPARTMENT,
                         col(CalendarFeed.department_id) == actor.department_id))


def active_for(session: Session, actor: User) -> list[CalendarFeed]:
    return list(session.scalars(
        select(CalendarFeed).where(_manageable(actor), col(CalendarFeed.revoked_at).is_(None))  # type: ignore[arg-type]
        .order_by(col(CalendarFeed.created_at), col(CalendarFeed.id))
    ))


def revoke(session: Session, clock: Clock, actor: User, feed_id: int) -> CalendarFeed:
    """From now on the address answers 404.  Another user's feed does not exist for ACTOR."""
    feed = session.scalars(
        select(CalendarFeed).where(col(CalendarFeed.id) == feed_id, _manageable(actor),  # type: ignore[arg-type]
                                   col(CalendarFeed.revoked_at).is_(None))
        .with_for_update()
    ).first()
    if feed is None:
        raise NotFound()
    feed.revoked_at = clock.now()
    _record(session, clock, actor, feed, "revoked")
    session.flush()
    return feed


def resolve(session: Session, token: str) -> tuple[CalendarFeed, User]:
    """The live feed this token names, and the owner it is read as; NotFound otherwise."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise NotFound()
    row = session.execute(
        select(CalendarFeed, User).join(User, col(User.id) == CalendarFeed.user_id)
        .where(col(CalendarFeed.token_hash) == token_hash(token), col(CalendarFeed.revoked_at).is_(None),
               col(User.active).is_(True))
    ).first()
    if row is None:
        raise NotFound()
    feed, owner = row
    if feed.kind == FeedKind.DEPARTMENT and not (
        owner.role == Role.HEAD and owner.department_id == feed.department_id
    ):
        raise NotFound()  # the head moved on: his department's feed ended with his office
    return feed, owner
