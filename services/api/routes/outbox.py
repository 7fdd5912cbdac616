"""Admin view of outgoing mail: messages by state, resend ("unknown"/"failed"), discard.

Who may: shared.outbox.admin decides (admins only); the relay is woken by the
after-commit hook when a resend puts mail back in the queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from services.api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep
from services.api.routes import api_router
from shared.outbox import admin
from shared.outbox.models import OutboxMessage, OutboxState
from shared.outbox.smtp import message_id, sender_domain
from shared.settings import Settings

router = api_router(prefix="/admin/outbox", tags=["outbox"])


class OutboxMessagePublic(BaseModel):
    id: int
    kind: str
    to_address: str
    subject: str
    state: OutboxState
    attempts: int
    last_error: str | None
    message_id: str
    created_at: datetime
    next_attempt_at: datetime
    claimed_at: datetime | None
    sent_at: datetime | None


class OutboxMessageDetail(OutboxMessagePublic):
    dedup_key: str
    body_text: str


class OutboxPage(BaseModel):
    counts: dict[str, int]
    items: list[OutboxMessagePublic]
    next_before_id: int | None


def _public(m: OutboxMessage, settings: Settings,
            model: type[OutboxMessagePublic] = OutboxMessagePublic) -> OutboxMessagePublic:
    assert m.id is not None
    data = m.model_dump()
    data["message_id"] = message_id(m.id, m.dedup_key, sender_domain(settings.mail_from))
    return model.model_validate(data)


@router.get("", response_model=OutboxPage)
def list_outbox(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    state: OutboxState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: int | None = None,
) -> OutboxPage:
    """Outgoing mail, newest first; `state=unknown` lists the sends an admin must decide on."""
    items = admin.list_messages(session, user, state=state, limit=limit, before_id=before_id)
    return OutboxPage(
        counts=admin.counts(session, user),
        items=[_public(m, settings) for m in items],
        next_before_id=items[-1].id if len(items) == limit else None,
    )


@router.get("/{message_id}", response_model=OutboxMessageDetail)
def get_outbox_message(message_id: int, session: SessionDep, user: CurrentUser,
                       settings: SettingsDep) -> OutboxMessagePublic:
    return _public(admin.get_message(session, user, message_id), settings, OutboxMessageDetail)


@router.post("/{message_id}/retry", response_model=OutboxMessagePublic)
def retry_outbox_message(message_id: int, session: SessionDep, clock: ClockDep, user: CurrentUser,
                         settings: SettingsDep) -> OutboxMessagePublic:
    """Resend (重新发送) a message whose delivery is unknown or failed; it keeps its Message-ID."""
    message = admin.retry(session, clock, user, message_id)
    session.commit()
    return _public(message, settings)


@router.post("/{message_id}/discard", response_model=OutboxMessagePublic)
def discard_outbox_message(message_id: int, session: SessionDep, clock: ClockDep,
                           user: CurrentUser, settings: SettingsDep) -> OutboxMessagePublic:
    """Give up on a pending, unknown or failed message (放弃发送)."""
    message = admin.discard(session, clock, user, message_id)
    session.commit()
    return _public(message, settings)
