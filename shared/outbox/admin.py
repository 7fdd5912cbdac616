"""What an admin does with the outbox: see messages by state, resend, discard.

A message ends "unknown" when its worker died mid-send: it may or may not have
reached the recipient, so only a person decides.  Resend puts it back to
pending (same Message-ID, so a mail client that already has it can tell);
discard closes it.  "failed" (the server refused it) can be resent after the
address is fixed, or discarded.  Every decision is an audit event.

Every function here is for administrators (the API's admins, or the CLI as
``shared.actors.SYSTEM``) and refuses anyone else with 403.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlmodel import Session, col

from shared.actors import Actor, audit_user, require_admin
from shared.clock import Clock
from shared.errors import InvalidTransition, NotFound
from shared.events import service as events
from shared.outbox.models import OutboxMessage, OutboxState
from shared.outbox.service import mark_enqueued

RETRY = "retry"
DISCARD = "discard"

# Which admin action is allowed from which state.  `sending` is in flight and
# `sent` is done: neither may be touched.
ADMIN_ACTIONS: dict[OutboxState, dict[str, OutboxState]] = {
    OutboxState.UNKNOWN: {RETRY: OutboxState.PENDING, DISCARD: OutboxState.DISCARDED},
    OutboxState.FAILED: {RETRY: OutboxState.PENDING, DISCARD: OutboxState.DISCARDED},
    OutboxState.PENDING: {DISCARD: OutboxState.DISCARDED},
}


def counts(session: Session, actor: Actor) -> dict[str, int]:
    require_admin(actor)
    rows = session.execute(
        select(col(OutboxMessage.state), func.count()).group_by(col(OutboxMessage.state))
    ).all()
    found = {str(state): int(n) for state, n in rows}
    return {state.value: found.get(state.value, 0) for state in OutboxState}


def list_messages(
    session: Session, actor: Actor, *, state: OutboxState | None = None, limit: int = 50,
    before_id: int | None = None,
) -> Sequence[OutboxMessage]:
    """Newest first; page on with `before_id` = the last id seen (the outbox grows large)."""
    require_admin(actor)
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
    if state is not None:
        stmt = stmt.where(col(OutboxMessage.state) == state.value)
    if before_id is not None:
        stmt = stmt.where(col(OutboxMessage.id) < before_id)
    return session.scalars(stmt.limit(limit)).all()


def ids_in_state(session: Session, actor: Actor, state: OutboxState, limit: int = 10_000) -> list[int]:
    require_admin(actor)
    stmt = (
        select(col(OutboxMessage.id))
        .where(col(OutboxMessage.state) == state.value)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return [int(i) for i in session.scalars(stmt) if i is not None]


def get_message(session: Session, actor: Actor, message_id: int, *, for_update: bool = False) -> OutboxMessage:
    require_admin(actor)
    stmt = select(OutboxMessage).where(col(OutboxMessage.id) == message_id)
    if for_update:
        stmt = stmt.with_for_update()
    message = session.scalars(stmt).first()
    if message is None:
        raise NotFound()
    return message


def _apply(session: Session, clock: Clock, actor: Actor, message_id: int, action: str) -> OutboxMessage:
    # The row lock keeps a concurrent relay (SKIP LOCKED) from claiming it meanwhile.
    message = get_message(session, actor, message_id, for_update=True)
    current = OutboxState(message.state)
    allowed = ADMIN_ACTIONS.get(current, {})
    if action not in allowed:
        raise InvalidTransition(current.value, action, sorted(allowed))
    before = {"state": current.value, "attempts": message.attempts, "last_error": message.last_error}
    message.state = allowed[action]
    if action == RETRY:
        message.attempts = 0
        message.next_attempt_at = clock.now()
        message.claimed_at = None
        mark_enqueued(session)  # back in the queue: the relay is woken after the commit
    after = {"state": OutboxState(message.state).value, "attempts": message.attempts}
    events.record(session, clock, audit_user(actor), "outbox_message", message.id, f"outbox.{action}",
                  before=before, after=after)
    session.flush()
    return message


def retry(session: Session, clock: Clock, actor: Actor, message_id: int) -> OutboxMessage:
    """Resend an unknown or failed message: back to pending, due now."""
    return _apply(session, clock, actor, message_id, RETRY)


def discard(session: Session, clock: Clock, actor: Actor, message_id: int) -> OutboxMessage:
    """Give up on a pending, unknown or failed message."""
    return _apply(session, clock, actor, message_id, DISCARD)
