"""Users' names as pages show them (timelines, assignees, who called back), kept per process.

A case page names everyone in its timeline, an assignment page its assignee and
dispatcher: the same few hundred colleagues, read on every page.  Each name is
kept per user on PostgreSQL, like a sign-in (shared.invalidation, kind USER):
any write to the user's row, made anywhere, drops it.  Only names asked for are
kept, never the table.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from shared import invalidation
from shared.users.models import User

NAMES_KEPT = 4096  # per process


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names by user id, of the IDS that exist (None and unknown ids are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    store = invalidation.kept(session.get_bind().engine, "user_names", invalidation.USER, NAMES_KEPT)
    return invalidation.kept_or_read_many(store, session, {i: i for i in wanted},
                                          lambda missing: _read(session, missing))


def _read(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(ids))).tuples().all()
    return dict(rows)
